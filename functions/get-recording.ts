/** `GET /recordings/{id}`: a task by its vendor task id or its record user id. */
import { apiHandler } from '../lib/http/middleware';
import { json } from '../lib/http/responses';
import { toApiTask } from '../lib/recording/presenter';
import { apiTokens, recordingService } from '../lib/runtime';

export const handler = apiHandler(
  async (event) => {
    const service = await recordingService();
    const task = await service.getRecording(event.pathParameters?.id ?? '');
    return json(200, toApiTask(task));
  },
  { getTokens: apiTokens, body: 'none' },
);
