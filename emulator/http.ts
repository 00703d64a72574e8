/**
 * Small HTTP helpers: JSON answers in the vendor's `{error_code, error_msg}` shape and a
 * bounded body reader that never buffers more than `maxBodyBytes`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, Code } from './errors';

/** After refusing an oversized body, how long its sender may keep the connection. */
const OVERSIZED_LINGER_MS = 1_000;

export function sendJson(res: ServerResponse, httpStatus: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(httpStatus, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, error: ApiError): void {
  sendJson(res, error.httpStatus, { error_code: error.code, error_msg: error.message });
}

/**
 * Reads the whole body as text, refusing (413, 20003 "body too large") as soon as it is
 * known to exceed `maxBodyBytes`, without reading the rest.
 */
export function readBody(req: IncomingMessage, maxBodyBytes: number): Promise<string> {
  const tooLarge = () => new ApiError(Code.BAD_REQUEST, 'body too large', 413);
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBodyBytes) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let sizeBytes = 0;
    const onData = (chunk: Buffer) => {
      sizeBytes += chunk.length;
      if (sizeBytes > maxBodyBytes) {
        req.off('data', onData);
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * Answers a refused oversized body: the connection is closed after the answer, the rest
 * of the body is discarded unread, and a sender that keeps sending is cut off.
 */
export function refuseOversized(req: IncomingMessage, res: ServerResponse, error: ApiError): void {
  sendJson(res, error.httpStatus, { error_code: error.code, error_msg: error.message }, { connection: 'close' });
  req.resume();
  const timer = setTimeout(() => req.socket.destroy(), OVERSIZED_LINGER_MS);
  timer.unref();
  req.socket.once('close', () => clearTimeout(timer));
}

/** Parses a JSON object body; anything else is a 20003 naming `body`. */
export function parseJsonObject(text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ApiError(Code.BAD_REQUEST, 'body: not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ApiError(Code.BAD_REQUEST, 'body: expected a JSON object');
  }
  return parsed as Record<string, unknown>;
}

export function isJsonContentType(req: IncomingMessage): boolean {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  return type === 'application/json';
}
