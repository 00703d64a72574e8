/**
 * Middy middlewares of the platform API: bearer auth, JSON body parsing with a size limit,
 * and error mapping. Handlers in functions/ compose them with `apiHandler` and stay thin.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { logger } from '../logger';
import type { ApiToken } from '../secrets';
import { toHttpResponse } from './error-mapping';
import { HttpError } from './http-error';
import type { JsonResponse } from './responses';

/** Largest request body the platform API reads; its bodies are a few hundred bytes. */
export const MAX_API_BODY_BYTES = 16 * 1024;

/** The event after the middlewares: the parsed body and the authenticated caller. */
export type ApiEvent = APIGatewayProxyEventV2 & { jsonBody?: unknown; caller?: ApiToken };

type ApiMiddleware = middy.MiddlewareObj<ApiEvent, JsonResponse, Error, Context>;

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** The caller whose token matches, compared in constant time over fixed-length digests. */
export function matchToken(presented: string, tokens: readonly ApiToken[]): ApiToken | undefined {
  const presentedDigest = digest(presented);
  let match: ApiToken | undefined;
  for (const candidate of tokens) {
    // Compare against every token, without stopping early, so timing says nothing about which matched.
    if (timingSafeEqual(presentedDigest, digest(candidate.token)) && !match) match = candidate;
  }
  return match;
}

/** Refuses, with 401 and nothing changed, any request without a known `Authorization: Bearer` token. */
export function bearerAuth(getTokens: () => Promise<readonly ApiToken[]>): ApiMiddleware {
  return {
    before: async (request) => {
      const header = request.event.headers?.authorization ?? request.event.headers?.Authorization;
      const found = header === undefined ? undefined : /^Bearer\s+(\S+)\s*$/i.exec(header);
      const unauthorized = new HttpError(401, 'unauthorized', 'a valid "Authorization: Bearer <token>" header is required', undefined, {
        'www-authenticate': 'Bearer',
      });
      if (!found?.[1]) throw unauthorized;
      const caller = matchToken(found[1], await getTokens());
      if (!caller) throw unauthorized;
      request.event.caller = caller;
      logger.appendKeys({ caller: caller.callerId });
    },
  };
}

/**
 * Parses a JSON request body: `415` unless the content type is JSON, `413` past
 * `MAX_API_BODY_BYTES`, `400` when it is not JSON or not an object.
 */
export function jsonBody(options: { required: boolean }): ApiMiddleware {
  return {
    before: async (request) => {
      const { event } = request;
      const raw = event.body;
      if (raw === undefined || raw === null || raw === '') {
        if (options.required) throw new HttpError(400, 'invalid_request', 'a JSON object body is required', 'body');
        return;
      }
      const contentType = event.headers?.['content-type'] ?? event.headers?.['Content-Type'] ?? '';
      if (!/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(contentType)) {
        throw new HttpError(415, 'unsupported_media_type', 'content-type must be application/json');
      }
      // Measure before decoding: base64 inflates by 4/3, so this bound is conservative.
      if (raw.length > (event.isBase64Encoded ? Math.ceil((MAX_API_BODY_BYTES * 4) / 3) + 4 : MAX_API_BODY_BYTES)) {
        throw new HttpError(413, 'payload_too_large', `body is larger than ${MAX_API_BODY_BYTES} bytes`);
      }
      const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
      if (Buffer.byteLength(text) > MAX_API_BODY_BYTES) {
        throw new HttpError(413, 'payload_too_large', `body is larger than ${MAX_API_BODY_BYTES} bytes`);
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new HttpError(400, 'invalid_request', 'body is not valid JSON', 'body');
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        throw new HttpError(400, 'invalid_request', 'body must be a JSON object', 'body');
      }
      event.jsonBody = parsed;
    },
  };
}

/** Turns any error into the API's error shape; logs 5xx as errors and 4xx as warnings, never with secrets. */
export function httpErrors(): ApiMiddleware {
  return {
    onError: async (request) => {
      const response = toHttpResponse(request.error, request.context?.awsRequestId);
      const error = request.error;
      const summary = { status: response.statusCode, error: error?.name, error_message: error?.message };
      if (response.statusCode >= 500) logger.error('request failed', summary);
      else logger.warn('request refused', summary);
      request.response = response;
    },
  };
}

/**
 * Wraps a platform-API handler: logging context, error mapping, then (when asked) bearer
 * auth before the body is even parsed, so an unauthenticated request costs nothing.
 */
export function apiHandler(
  handler: (event: ApiEvent, context: Context) => Promise<JsonResponse>,
  options: { getTokens: () => Promise<readonly ApiToken[]>; body: 'none' | 'optional' | 'required' },
) {
  const wrapped = middy<ApiEvent, JsonResponse, Error, Context>(handler)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(httpErrors())
    .use(bearerAuth(options.getTokens));
  if (options.body !== 'none') wrapped.use(jsonBody({ required: options.body === 'required' }));
  return wrapped;
}
