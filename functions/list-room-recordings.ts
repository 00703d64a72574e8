/** `GET /rooms/{roomId}/recordings?limit=&cursor=`: a room's recordings, newest first. */
import { apiHandler } from '../lib/http/middleware';
import { json } from '../lib/http/responses';
import { toApiPage } from '../lib/recording/presenter';
import { apiTokens, recordingService } from '../lib/runtime';

export const handler = apiHandler(
  async (event) => {
    const service = await recordingService();
    const query = event.queryStringParameters ?? {};
    const page = await service.listRoomRecordings({
      roomId: event.pathParameters?.roomId,
      limit: query.limit,
      cursor: query.cursor,
    });
    return json(200, toApiPage(page));
  },
  { getTokens: apiTokens, body: 'none' },
);
