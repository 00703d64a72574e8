/** `POST /recordings`: starts recording a room. 202 with the task; an idempotent replay is marked `idempotent-replayed: true`. */
import { apiHandler } from '../lib/http/middleware';
import { logTask } from '../lib/http/log-keys';
import { json } from '../lib/http/responses';
import { toApiTask } from '../lib/recording/presenter';
import { apiTokens, recordingService } from '../lib/runtime';

export const handler = apiHandler(
  async (event) => {
    const service = await recordingService({ tic: true, userSig: true });
    const { task, replayed } = await service.startRecording({
      body: event.jsonBody,
      idempotencyKey: event.headers['idempotency-key'],
      callerId: event.caller?.callerId ?? 'anonymous',
    });
    logTask(task);
    return json(202, toApiTask(task), replayed ? { 'idempotent-replayed': 'true' } : {});
  },
  { getTokens: apiTokens, body: 'required' },
);
