/**
 * The one place that turns an error into an HTTP answer of the platform API.
 *
 * Domain errors (lib/recording/errors.ts) are recognised by their stable `name`; anything
 * unrecognised is a 500 whose body says nothing about the cause. No stack trace, no SDK
 * message, no secret ever reaches a response: only fields chosen here.
 */
import { HttpError } from './http-error';
import { errorResponse, type JsonResponse } from './responses';

interface NamedError {
  name: string;
  message: string;
  field?: unknown;
  code?: unknown;
  upstreamMessage?: unknown;
  random?: unknown;
  operation?: unknown;
}

function isNamedError(value: unknown): value is NamedError {
  return value instanceof Error;
}

/** Maps an error to a response; `requestId` is echoed on 500s so an operator can find the log line. */
export function toHttpResponse(error: unknown, requestId?: string): JsonResponse {
  if (error instanceof HttpError) {
    return errorResponse(
      error.statusCode,
      { code: error.code, message: error.message, ...(error.field ? { field: error.field } : {}) },
      error.headers,
    );
  }
  if (isNamedError(error)) {
    switch (error.name) {
      case 'ValidationError':
        return errorResponse(400, {
          code: 'invalid_request',
          message: error.message,
          ...(typeof error.field === 'string' ? { field: error.field } : {}),
        });
      case 'TaskNotFound':
        return errorResponse(404, { code: 'not_found', message: error.message });
      case 'IdempotencyConflict':
      case 'TaskNotStartedYet':
        return errorResponse(409, { code: 'conflict', message: error.message });
      case 'UpstreamRefused':
        return errorResponse(502, {
          code: 'upstream_refused',
          message: error.message,
          upstream: {
            operation: String(error.operation),
            error_code: typeof error.code === 'number' ? error.code : null,
            error_msg: String(error.upstreamMessage ?? ''),
            random: typeof error.random === 'number' ? error.random : 0,
          },
        });
      case 'ConfigError':
        return errorResponse(500, {
          code: 'service_misconfigured',
          message: `service misconfigured${requestId ? ` (request ${requestId})` : ''}`,
        });
      default:
        break;
    }
  }
  return errorResponse(500, {
    code: 'internal_error',
    message: `internal error${requestId ? ` (request ${requestId})` : ''}`,
  });
}

/** Whether an error is a client's fault (4xx) rather than ours, for log levels. */
export function isClientError(response: JsonResponse): boolean {
  return response.statusCode >= 400 && response.statusCode < 500;
}
