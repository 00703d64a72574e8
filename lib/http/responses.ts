/**
 * JSON responses of the platform API, and the one error shape every failure uses:
 * `{ "error": { "code": "...", "message": "...", "field"?: "...", "upstream"?: {...} } }`.
 */
import type { APIGatewayProxyResultV2 } from 'aws-lambda';

export type JsonResponse = APIGatewayProxyResultV2 & { statusCode: number; body: string };

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): JsonResponse {
  return { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

/** Machine-readable error codes of the platform API. */
export type ApiErrorCode =
  | 'invalid_request'
  | 'unauthorized'
  | 'not_found'
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'upstream_refused'
  | 'service_misconfigured'
  | 'internal_error';

export interface ApiErrorBody {
  code: ApiErrorCode;
  message: string;
  field?: string;
  upstream?: { operation: string; error_code: number | null; error_msg: string; random: number };
}

export function errorResponse(statusCode: number, error: ApiErrorBody, headers: Record<string, string> = {}): JsonResponse {
  return json(statusCode, { error }, headers);
}
