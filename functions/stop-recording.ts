/** `POST /recordings/{id}/stop`: stops a recording; stopping one already stopping or over is not an error. */
import { apiHandler } from '../lib/http/middleware';
import { logTask } from '../lib/http/log-keys';
import { json } from '../lib/http/responses';
import { toApiTask } from '../lib/recording/presenter';
import { apiTokens, recordingService } from '../lib/runtime';

export const handler = apiHandler(
  async (event) => {
    const service = await recordingService({ tic: true });
    const task = await service.stopRecording(event.pathParameters?.id ?? '');
    logTask(task);
    return json(202, toApiTask(task));
  },
  { getTokens: apiTokens, body: 'optional' },
);
