/**
 * What the hostile-input tests share: a raw HTTP client (any method, any path bytes, any
 * header list, any body bytes, which `fetch` would normalise or refuse), the routes of the
 * platform API as the gateway should match them, and the checks every answer must pass
 * whatever was sent: no 5xx, no stack trace or internal name, the documented error shape.
 */
import { createHash } from 'node:crypto';
import { request, type IncomingHttpHeaders } from 'node:http';
import { DynamoDBClient, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { expect } from 'vitest';
import type { LocalStack } from '../../local/stack';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/aws-services';

export interface RawRequest {
  method: string;
  /** Sent as is on the request line: percent-encoding is the caller's. */
  path: string;
  /** A flat list of name/value pairs, so that a name may repeat. */
  headers?: ReadonlyArray<readonly [string, string]>;
  body?: Buffer | string;
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

const REQUEST_TIMEOUT_MS = 15_000;

/** One request on its own connection, exactly as given. */
export function sendRaw(baseUrl: string, raw: RawRequest): Promise<RawResponse> {
  const url = new URL(baseUrl);
  // A raw list gets no Host from node, and node's server refuses HTTP/1.1 without one.
  const headerList: string[] = ['host', url.host];
  for (const [name, value] of raw.headers ?? []) headerList.push(name, value);
  const body = raw.body === undefined ? undefined : Buffer.isBuffer(raw.body) ? raw.body : Buffer.from(raw.body, 'utf8');
  if (body !== undefined) headerList.push('content-length', String(body.length));
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method: raw.method,
        path: raw.path,
        // A raw header list (Node ≥ 18.15): duplicates are sent as they are.
        headers: headerList,
        agent: false,
        timeout: REQUEST_TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms: ${raw.method} ${raw.path.slice(0, 200)}`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Which part of the system should answer a request: the platform API, the callback route, or the gateway itself. */
export type Answerer = 'api' | 'callback' | 'gateway';

const API_ROUTES: ReadonlyArray<readonly [string, RegExp]> = [
  ['POST', /^\/recordings$/],
  ['POST', /^\/recordings\/[^/]+\/stop$/],
  ['GET', /^\/recordings\/[^/]+$/],
  ['GET', /^\/rooms\/[^/]+\/recordings$/],
];
const CALLBACK_ROUTE = /^\/tic\/callback\/[^/]+$/;

function decodable(segment: string): boolean {
  try {
    decodeURIComponent(segment);
    return true;
  } catch {
    return false;
  }
}

/** The path of a request target as a URL parser normalises it (dot segments, `%2e`), or undefined. */
export function pathnameOf(path: string): string | undefined {
  try {
    return (path.startsWith('/') ? new URL(`http://local${path}`) : new URL(path)).pathname;
  } catch {
    return undefined;
  }
}

/**
 * The routes of serverless.yml, matched as API Gateway does: on the normalised path, by exact
 * method. A route whose parameter is not a valid percent-encoding is the gateway's to refuse.
 */
export function answererFor(method: string, path: string): Answerer {
  const pathname = pathnameOf(path);
  if (pathname === undefined) return 'gateway';
  const upper = method.toUpperCase();
  let answerer: Answerer = 'gateway';
  if (API_ROUTES.some(([routeMethod, pattern]) => routeMethod === upper && pattern.test(pathname))) answerer = 'api';
  if (upper === 'POST' && CALLBACK_ROUTE.test(pathname)) answerer = 'callback';
  return answerer !== 'gateway' && !pathname.split('/').every(decodable) ? 'gateway' : answerer;
}

/**
 * What must never be in an answer: a stack frame, a source path, an error class or an SDK's
 * exception name, which would tell an attacker what runs inside.
 */
const INTERNALS =
  /\n\s+at |\bat [\w.<>]+ \(|node_modules|file:\/\/|\.ts:\d+|\.js:\d+|\b(TypeError|RangeError|ReferenceError|SyntaxError|URIError|EvalError|ZodError|TicError|HttpError|ConfigError)\b|ValidationException|ResourceNotFound|ConditionalCheckFailed|TransactionCanceled|ProvisionedThroughput|\$metadata|\$fault|UnrecognizedClientException|AWS\.SimpleQueueService|DynamoDB|undefined is not|Cannot read propert|Maximum call stack/;

export interface AnswerCheck {
  /** The answer as received. */
  response: RawResponse;
  method: string;
  answerer: Answerer;
  /** Strings that must not appear anywhere in the answer (secrets). */
  secrets: readonly string[];
}

/** The properties every answer has, whatever the request: asserted with vitest's expect. */
export function expectSafeAnswer({ response, method, answerer, secrets }: AnswerCheck): unknown {
  const where = `${method} → ${response.status} ${response.text.slice(0, 300)}`;
  // For these inputs the emulator is healthy: no 5xx at all, upstream fault or not.
  expect(response.status, where).toBeGreaterThanOrEqual(200);
  expect(response.status, where).toBeLessThan(500);
  const everything = `${JSON.stringify(response.headers)}\n${response.text}`;
  for (const secret of secrets) expect(everything.includes(secret), `a secret is in the answer: ${where}`).toBe(false);
  expect(INTERNALS.test(response.text), `internals in the answer: ${where}`).toBe(false);
  if (method.toUpperCase() === 'HEAD') {
    expect(response.text).toBe('');
    return undefined;
  }
  expect(String(response.headers['content-type']), where).toMatch(/^application\/json/);
  let body: unknown;
  expect(() => (body = JSON.parse(response.text)), where).not.toThrow();
  expect(typeof body === 'object' && body !== null && !Array.isArray(body), where).toBe(true);
  const object = body as Record<string, unknown>;
  if (answerer === 'gateway') {
    expect(object, where).toEqual({ message: expect.stringMatching(/^(Not Found|Bad Request)$/) });
    expect([400, 404], where).toContain(response.status);
  } else if (answerer === 'callback') {
    expect(typeof object.error_code, where).toBe('number');
    if (object.error_code !== 0) {
      expect(typeof object.error_msg, where).toBe('string');
      expect(response.status, where).toBeGreaterThanOrEqual(400);
    } else {
      expect(response.status, where).toBe(200);
    }
  } else if (response.status >= 400) {
    expect(Object.keys(object), where).toEqual(['error']);
    const error = object.error as Record<string, unknown>;
    expect(typeof error.code, where).toBe('string');
    expect(typeof error.message, where).toBe('string');
    expect(Object.keys(error).every((key) => ['code', 'message', 'field', 'upstream'].includes(key)), where).toBe(true);
  }
  return body;
}

/** The secret values of a stack, longest first (so a report names the most specific). */
export function stackSecrets(stack: LocalStack): string[] {
  const env = stack.functionEnv;
  const values = [env.TIC_KEY, env.USERSIG_SECRET_KEY, env.CALLBACK_SECRET, stack.apiToken, env.API_TOKENS];
  return values.filter((value): value is string => typeof value === 'string' && value.length > 0).sort((a, b) => b.length - a.length);
}

/** Every item of the stack's table, unmarshalled (read straight from DynamoDB Local, not through the API). */
export async function scanTable(stack: LocalStack): Promise<Record<string, unknown>[]> {
  const client = new DynamoDBClient({ endpoint: stack.dynamoEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  try {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await client.send(new ScanCommand({ TableName: stack.resources.tableName, ExclusiveStartKey: startKey, ConsistentRead: true }));
      for (const item of page.Items ?? []) items.push(unmarshall(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  } finally {
    client.destroy();
  }
}

/** The record user ids of the task items in the table. */
export async function taskIdsInTable(stack: LocalStack): Promise<string[]> {
  const items = await scanTable(stack);
  return items
    .map((item) => String(item.pk))
    .filter((pk) => pk.startsWith('REC#'))
    .map((pk) => pk.slice('REC#'.length))
    .sort();
}

/** The TIC sign for a TicKey and expire_time, computed here independently of lib/tic/sign.ts. */
export function md5Sign(ticKey: string, expireTime: number): string {
  return createHash('md5').update(`${ticKey}${expireTime}`, 'utf8').digest('hex');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until `probe` returns a value, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}
