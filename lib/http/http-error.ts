/**
 * An error raised by the HTTP adapter itself (auth, body parsing) before any use case runs.
 * Domain errors are mapped in lib/http/error-mapping.ts; this one already knows its status.
 */
import type { ApiErrorCode } from './responses';

export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly statusCode: number,
    readonly code: ApiErrorCode,
    message: string,
    readonly field?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}
