/**
 * `POST /tic/callback/{secret}`: the vendor's callbacks (`record_started`, `record_finished`)
 * and the test request sent when the URL is registered.
 *
 * The raw body is verified (path secret, sdkappid, sign, expire_time window) before anything
 * else reads it (lib/tic/callback-request.ts). `{"error_code":0}` is answered only after the
 * change is stored; any failure answers an error in the vendor's shape, so the vendor retries.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { logger } from '../lib/logger';
import { logTask } from '../lib/http/log-keys';
import { json, type JsonResponse } from '../lib/http/responses';
import { callbackSecret, config, recordingService, tic } from '../lib/runtime';
import { MAX_CALLBACK_BODY_BYTES } from '../lib/tic/callback-body';
import { verifyCallbackRequest } from '../lib/tic/callback-request';
import { TicErrorCode } from '../lib/tic/errors';

/** How much of an unreadable body goes into the log line that keeps it for inspection. */
const MAX_LOGGED_RAW_BODY_CHARS = 8 * 1024;
const MS_PER_SECOND = 1000;

function vendorAnswer(httpStatus: number, errorCode: number, errorMsg: string): JsonResponse {
  return json(httpStatus, errorCode === TicErrorCode.OK ? { error_code: 0 } : { error_code: errorCode, error_msg: errorMsg });
}

/** The body as the vendor sent it, or undefined when it is too large to be a callback. */
function rawBody(event: APIGatewayProxyEventV2): string | undefined {
  const body = event.body ?? '';
  if (body.length > (event.isBase64Encoded ? Math.ceil((MAX_CALLBACK_BODY_BYTES * 4) / 3) + 4 : MAX_CALLBACK_BODY_BYTES)) return undefined;
  return event.isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
}

async function handle(event: APIGatewayProxyEventV2): Promise<JsonResponse> {
  const raw = rawBody(event);
  if (raw === undefined) return vendorAnswer(413, TicErrorCode.BAD_REQUEST, `body larger than ${MAX_CALLBACK_BODY_BYTES} bytes`);
  const [secret, { credentials }] = await Promise.all([callbackSecret(), tic()]);
  const verdict = verifyCallbackRequest(
    { pathSecret: event.pathParameters?.secret, query: event.queryStringParameters ?? {}, rawBody: raw },
    {
      callbackSecret: secret,
      sdkappid: config.tic.sdkappid,
      credentials,
      nowSeconds: Math.floor(Date.now() / MS_PER_SECOND),
      maxFutureSeconds: config.callbackMaxFutureSeconds,
    },
  );
  logger.appendKeys({ random: verdict.random });
  if (verdict.kind === 'refused') {
    if (verdict.keepRaw) {
      // Through the secret path but unreadable: the vendor will retry; keep what it sent (CONTRACT.md item 4).
      logger.error('callback unreadable, kept for inspection', {
        reason: verdict.errorMsg,
        raw_body: raw.slice(0, MAX_LOGGED_RAW_BODY_CHARS),
        raw_body_bytes: Buffer.byteLength(raw),
      });
    } else {
      logger.warn('callback refused', { reason: verdict.errorMsg, http_status: verdict.httpStatus });
    }
    return vendorAnswer(verdict.httpStatus, verdict.errorCode, verdict.errorMsg);
  }
  if (verdict.kind === 'probe') {
    logger.info('callback test request answered (CONTRACT.md item 7)');
    return vendorAnswer(200, TicErrorCode.OK, '');
  }
  const { callback } = verdict;
  logger.appendKeys({ task_id: callback.task_id, record_user_id: callback.record_user_id, room_id: callback.room_id });
  const service = await recordingService();
  const result = await service.applyCallback(callback, raw);
  if (result.task) logTask(result.task);
  // The service logs the outcome; the repair is this adapter's to report (CONTRACT.md item 4).
  if (verdict.repaired) logger.warn('callback body was not valid JSON and was repaired', { outcome: result.outcome });
  return vendorAnswer(200, TicErrorCode.OK, '');
}

export const handler = middy<APIGatewayProxyEventV2, JsonResponse, Error, Context>(handle)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use({
    onError: async (request) => {
      // Nothing was stored (or we cannot tell): answer an error so that the vendor sends it again.
      logger.error('callback failed', { error: request.error?.name, error_message: request.error?.message });
      request.response = vendorAnswer(500, TicErrorCode.INTERNAL, 'internal error');
    },
  });
