/**
 * Hostile input on every HTTP entry of the system, through the in-process local stack (the
 * real handlers behind the HTTP gateway, DynamoDB Local, fauxqs, the emulator over HTTP).
 *
 * Properties, whatever is sent (random bodies, bytes that are not UTF-8, huge and deeply
 * nested JSON, wrong types, prototype keys, odd headers, methods and path segments):
 * - no 5xx (the emulator is healthy throughout, so not even an upstream one);
 * - no stack trace, no error class or SDK name, no secret in an answer;
 * - the documented error shape: `{"error":{code,message,...}}` from the platform API,
 *   `{"error_code":N,"error_msg":...}` from the callback route, `{"message":"Not Found"}`
 *   from the gateway for an unknown route;
 * - nothing changes without valid auth: afterwards the table holds only the tasks that
 *   authenticated requests were told they created, the task that existed before is
 *   unchanged to the byte, and the emulator saw no start or stop but theirs.
 *
 * The seed is fixed (HOSTILE_SEED overrides it); fast-check prints it with the shrunk
 * counterexample when a property fails.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { useLocalAws } from '../support/local-aws';
import {
  answererFor,
  expectSafeAnswer,
  md5Sign,
  pathnameOf,
  scanTable,
  sendRaw,
  sleep,
  stackSecrets,
  taskIdsInTable,
  waitFor,
  type RawRequest,
  type RawResponse,
} from './support';

const SEED = Number(process.env.HOSTILE_SEED ?? 424242);
/** Runs per property: enough to reach every generator branch many times, small enough for 2 cores. */
const RUNS = 200;
const API_BODY_LIMIT_BYTES = 16 * 1024;
const CALLBACK_BODY_LIMIT_BYTES = 1024 * 1024;
const REAL_ROOM_ID = 424_242;
const PROPERTY_TIMEOUT_MS = 120_000;

let stack: LocalStack;
let secrets: string[];
let apiToken: string;
/** The task that exists before the hostile run, in `recording`. */
let realTask: { recordUserId: string; taskId: string };
let realItemBefore: Record<string, unknown>;
let realViewBefore: string;
/** Tasks that an authenticated request was told it created (2xx of POST /recordings). */
const createdByAuthenticated = new Set<string>();
/** Statuses (and vendor codes) each property met: the generators must reach every kind of refusal. */
const seen = new Map<string, Set<string>>();
function see(property: string, outcome: string | number): void {
  const outcomes = seen.get(property) ?? new Set<string>();
  outcomes.add(String(outcome));
  seen.set(property, outcomes);
}

const auth = () => ({ authorization: `Bearer ${apiToken}`, 'content-type': 'application/json' });

async function realItem(): Promise<Record<string, unknown>> {
  const items = await scanTable(stack);
  const item = items.find((candidate) => candidate.pk === `REC#${realTask.recordUserId}`);
  if (!item) throw new Error('the real task is gone from the table');
  return item;
}

async function realView(): Promise<string> {
  const response = await fetch(`${stack.apiUrl}/recordings/${realTask.recordUserId}`, { headers: auth() });
  expect(response.status).toBe(200);
  return response.text();
}

beforeAll(async () => {
  apiToken = randomBytes(24).toString('hex');
  stack = await startLocalStack({
    mode: 'in-process',
    apiToken,
    aws: { ...useLocalAws(), nameSuffix: `hostile-http-${randomBytes(3).toString('hex')}` },
    emulator: { startDelayMs: 100, stopDelayMs: 100, processingDelayMs: 100, callbackRetryIntervalMs: 200, callbackMaxRetries: 3 },
    // ERROR only: a thousand refusals would flood the output with WARN lines; a 5xx would still show.
    functionEnv: { START_CHECK_DELAY_SECONDS: '1', STOP_CHECK_DELAY_SECONDS: '1', TIC_TIMEOUT_MS: '2000', LOG_LEVEL: 'ERROR' },
    // No sweep during the run: the real task's item must change only if a hostile request changed it.
    sweepIntervalMs: 600_000,
  });
  secrets = stackSecrets(stack);

  // One genuine recording, so that the hostile requests have a real task to aim at.
  const started = await fetch(`${stack.apiUrl}/recordings`, { method: 'POST', headers: auth(), body: JSON.stringify({ room_id: REAL_ROOM_ID }) });
  expect(started.status).toBe(202);
  const { record_user_id: recordUserId } = (await started.json()) as { record_user_id: string };
  stack.emulator.join(REAL_ROOM_ID, 'teacher', { camera: true });
  const taskId = await waitFor('the real task to be recording', async () => {
    const task = (await (await fetch(`${stack.apiUrl}/recordings/${recordUserId}`, { headers: auth() })).json()) as { status: string; task_id: string };
    return task.status === 'recording' ? task.task_id : undefined;
  });
  realTask = { recordUserId, taskId };
  // Let the start-phase check run and settle: the snapshot must be of a task at rest.
  await waitFor('the real task to be at rest', async () => {
    const before = JSON.stringify(await realItem());
    await sleep(1_500);
    return JSON.stringify(await realItem()) === before ? true : undefined;
  }, 20_000, 0);
  realItemBefore = await realItem();
  realViewBefore = await realView();
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

// ---------------------------------------------------------------------------------------
// Generators

/** Percent-encodes every byte of the UTF-8 form but the unreserved ones (a lone surrogate becomes U+FFFD). */
function percentEncode(text: string): string {
  return [...Buffer.from(text, 'utf8')]
    .map((byte) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`))
    .join('');
}

/** A path segment an attacker might send: encoded slashes and NULs, dot segments, broken escapes, unicode, very long ids. */
const segmentArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '%2F', 'a%2Fb', '%2f..%2f', '%00', 'a%00b', '%2e%2e', '%2E', '..', '.', '%', '%ZZ', 'abc%', '%E0%A4%A', '%C3', '%ED%A0%80',
    '%FF', '%C0%AF', '%F0%9F%98%80', '__proto__', 'constructor', 'prototype', 'tic_record_user_', 'tic_record_user_1_x',
    'tic_record_user_424242_%00', '%20', '+', '~', '0', '-1', '2147483648', '1e3', '0x10', 'null', 'undefined', '%22%3E%3Cscript%3E',
  ),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }).map(percentEncode),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).map(percentEncode),
  fc.stringMatching(/^[A-Za-z0-9_.~-]{1,40}$/),
  fc.integer({ min: 100, max: 3_000 }).map((length) => 'x'.repeat(length)),
  fc.integer({ min: 10, max: 300 }).map((count) => percentEncode('录'.repeat(count))),
  fc.integer({ min: -(2 ** 53), max: 2 ** 53 }).map(String),
);

/** What lies inside a query string: names and values, some repeated, some broken. */
const queryArb: fc.Arbitrary<string> = fc.oneof(
  fc.constant(''),
  fc.constantFrom('?', '?&&', '?=', '?%zz=%zz', '?limit', '?limit=', '?limit=1&limit=2', '?cursor=%00', '?limit=-1', '?limit=1e2', '?limit=101', '?limit=0x10', '?cursor=eyJ9'),
  fc
    .array(
      fc.tuple(
        fc.oneof(fc.constantFrom('limit', 'cursor', 'sdkappid', 'sign', 'random', '__proto__', 'constructor'), fc.string({ maxLength: 10 })),
        fc.oneof(segmentArb, fc.string({ unit: 'binary', maxLength: 60 }).map(percentEncode)),
      ),
      { maxLength: 5 },
    )
    .map((pairs) => (pairs.length === 0 ? '' : `?${pairs.map(([name, value]) => `${percentEncode(name)}=${value}`).join('&')}`)),
);

const contentTypeArb: fc.Arbitrary<string | undefined> = fc.constantFrom(
  undefined,
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/vnd.api+json',
  'application/json;',
  'application/json ; charset=latin1',
  'application/jsonx',
  'application/octet-stream',
  'text/plain',
  'text/json',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'json',
  '',
  ';;;',
  '*/*',
);

/** A value of the wrong type for any field. */
const wrongValueArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.double(),
  fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
  fc.constantFrom(0, -1, 2 ** 31, 2 ** 31 - 1, 2 ** 53, -0, 1.5, 1e308, true, false, null, '', '1', [], {}, [1], { width: 1 }),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.object({ maxDepth: 2 }),
);

const protoKeyArb = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__');

/** Raw JSON texts with prototype keys: JSON.parse makes them own properties, which is what an attacker relies on. */
const protoBodyArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '{"__proto__":{"polluted":"yes","room_id":7}}',
    '{"room_id":7,"__proto__":{"polluted":"yes"}}',
    '{"constructor":{"prototype":{"polluted":"yes"}}}',
    '{"room_id":7,"constructor":{"prototype":{"polluted":"yes"}}}',
    '{"room_id":7,"whiteboard":{"__proto__":{"width":5,"height":5,"polluted":"yes"}}}',
    '{"room_id":7,"whiteboard":{"width":5,"height":5,"__proto__":null}}',
    '{"__proto__":null}',
    '{"__proto__":[]}',
    '{"callback_type":"record_started","__proto__":{"polluted":"yes"}}',
  ),
  fc
    .tuple(protoKeyArb, fc.jsonValue({ maxDepth: 2 }))
    .map(([key, value]) => `{"room_id":7,${JSON.stringify(key)}:${JSON.stringify(value) ?? 'null'}}`),
);

/** A JSON body of about `sizeBytes` bytes: a long string field, as close to the limit as given. */
function paddedBody(sizeBytes: number, head = '{"room_id":7,"group_id":"'): string {
  const tail = '"}';
  return head + 'a'.repeat(Math.max(0, sizeBytes - head.length - tail.length)) + tail;
}

function deepJson(depth: number, open: string, close: string, closed: boolean): string {
  return open.repeat(depth) + (closed ? close.repeat(depth) : '');
}

/** Bodies of every kind; `limitBytes` places the huge ones around the route's limit. */
function bodyArb(limitBytes: number): fc.Arbitrary<Buffer | string | undefined> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 3, arbitrary: fc.json({ maxDepth: 3 }) },
    { weight: 3, arbitrary: fc.anything({ maxDepth: 3 }).map((value) => JSON.stringify(value) ?? 'undefined') },
    { weight: 2, arbitrary: fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)) },
    // Bytes that are not UTF-8 inside otherwise valid JSON.
    { weight: 2, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 20 }).map((bytes) => Buffer.concat([Buffer.from('{"room_id":7,"group_id":"'), Buffer.from([0xc3, 0x28, 0xff, 0xed, 0xa0, 0x80]), Buffer.from(bytes), Buffer.from('"}')])) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
    {
      weight: 3,
      arbitrary: fc
        .record(
          { room_id: wrongValueArb, group_id: wrongValueArb, whiteboard: fc.oneof(wrongValueArb, fc.record({ width: wrongValueArb, height: wrongValueArb })), user_sig: wrongValueArb },
          { requiredKeys: [] },
        )
        .chain((record) => fc.tuple(fc.constant(record), fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 })))
        .map(([record, extra]) => JSON.stringify({ ...record, ...extra })),
    },
    { weight: 2, arbitrary: protoBodyArb },
    { weight: 1, arbitrary: fc.constantFrom(-2, -1, 0, 1, 2, 1000).map((delta) => paddedBody(limitBytes + delta)) },
    { weight: 1, arbitrary: fc.constantFrom(-100, 0, 100).map((delta) => paddedBody(limitBytes + delta, '{"room_id":7,"group_id":"录')) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.constantFrom(100, 1_000, 5_000, 8_000, 10_000, 100_000, 300_000), fc.constantFrom<[string, string]>(['[', ']'], ['{"a":', '}'], ['{"room_id":', '}']), fc.boolean())
        .map(([depth, [open, close], closed]) => deepJson(depth, open, close, closed)),
    },
    { weight: 1, arbitrary: fc.constantFrom('', ' ', 'null', 'true', '0', '[]', '"x"', '{}', '{', '}', '{"room_id":7', '\u0000', '\ufeff{"room_id":7}', '{"room_id":7}\u0000') },
  );
}

/** Header values node's HTTP client and parser accept: tab, printable ASCII, latin-1. */
const headerValueArb = fc.string({ unit: 'binary', maxLength: 200 }).map((text) => text.replace(/[^\t\x20-\x7e\x80-\xff]/g, '').trim());

/** Authorization headers that must NOT authenticate (a fresh, random token is in `apiToken`). */
function invalidAuthArb(): fc.Arbitrary<string[]> {
  const token = () => apiToken;
  const single: fc.Arbitrary<string> = fc.oneof(
    fc.constantFrom('', 'Bearer', 'Bearer ', 'Bearer  ', 'Basic', 'Bearer null', 'Bearer undefined', 'Bearer *', 'Bearer ,', 'Negotiate x'),
    fc.constantFrom(
      () => token(),
      () => `Basic ${Buffer.from(`local:${token()}`).toString('base64')}`,
      () => `Bearer ${token()}x`,
      () => `Bearer x${token()}`,
      () => `Bearer ${token().slice(0, -1)}`,
      () => `Bearer ${token().toUpperCase()}`,
      () => `Bearer ${token()} ${token()}`,
      () => `Bearer ${token()},Bearer ${token()}`,
      () => `Bearer "${token()}"`,
      () => `Token ${token()}`,
      () => `Bearer local:${token()}`,
      () => `Bearer ${Buffer.from(token()).toString('base64')}`,
      () => `${token()} Bearer`,
    ).map((make) => make()),
    headerValueArb.map((value) => `Bearer ${value}`),
    headerValueArb,
    // Node's parser takes 16 KiB of request line and headers in all: leave room for the rest.
    fc.integer({ min: 1_000, max: 6_000 }).map((length) => `Bearer ${'A'.repeat(length)}`),
  );
  return fc.oneof({ weight: 1, arbitrary: fc.constant<string[]>([]) }, { weight: 4, arbitrary: single.map((value) => [value]) }, { weight: 1, arbitrary: fc.tuple(single, single).map(([a, b]) => [a, b]) });
}

/** A few more headers: odd names and values, an Idempotency-Key of any kind. */
const extraHeadersArb: fc.Arbitrary<[string, string][]> = fc.array(
  fc.tuple(
    fc.oneof(fc.constantFrom('idempotency-key', 'x-forwarded-for', 'x-amzn-trace-id', 'accept', 'accept-encoding', 'cookie', 'x-api-key', 'origin'), fc.stringMatching(/^x-[a-z0-9-]{1,20}$/)),
    fc.oneof(headerValueArb, fc.integer({ min: 100, max: 1_000 }).map((length) => 'k'.repeat(length))),
  ),
  { maxLength: 3 },
);

interface RouteCase {
  method: string;
  path: string;
}

/** A route of the platform API with hostile path parameters, sometimes aimed at the real task. */
function apiRouteArb(options: { aimAtRealTask: boolean }): fc.Arbitrary<RouteCase> {
  const idArb = options.aimAtRealTask
    ? fc.oneof(segmentArb, fc.constantFrom(() => realTask.recordUserId, () => realTask.taskId).map((get) => get()))
    : segmentArb;
  const roomArb = options.aimAtRealTask ? fc.oneof(segmentArb, fc.constant(String(REAL_ROOM_ID))) : segmentArb;
  return fc.oneof(
    fc.constant({ method: 'POST', path: '/recordings' }),
    fc.tuple(idArb, queryArb).map(([id, query]) => ({ method: 'POST', path: `/recordings/${id}/stop${query}` })),
    fc.tuple(idArb, queryArb).map(([id, query]) => ({ method: 'GET', path: `/recordings/${id}${query}` })),
    fc.tuple(roomArb, queryArb).map(([room, query]) => ({ method: 'GET', path: `/rooms/${room}/recordings${query}` })),
  );
}

function headerList(authorization: string[], contentType: string | undefined, extra: [string, string][]): [string, string][] {
  const headers: [string, string][] = authorization.map((value) => ['authorization', value]);
  if (contentType !== undefined) headers.push(['content-type', contentType]);
  return [...headers, ...extra];
}

async function send(request: RawRequest): Promise<{ response: RawResponse; body: unknown }> {
  const response = await sendRaw(stack.apiUrl, request);
  const body = expectSafeAnswer({ response, method: request.method, answerer: answererFor(request.method, request.path), secrets });
  return { response, body };
}

/** Notes a task that an authenticated start created, so that the final count can tell it from a leak. */
function noteCreated(request: RawRequest, response: RawResponse, body: unknown): void {
  if (request.method === 'POST' && answererFor(request.method, request.path) === 'api' && pathnameOf(request.path) === '/recordings' && response.status < 300) {
    createdByAuthenticated.add((body as { record_user_id: string }).record_user_id);
  }
}

/** A well-formed callback about the real task, as the emulator would send it. */
function realCallbackBody(kind: 'record_started' | 'record_finished', expireTime: number): Record<string, unknown> {
  const nowSeconds = Math.floor(Date.now() / 1000);
  const common = {
    expire_time: expireTime,
    timestamp: nowSeconds,
    error_code: 0,
    error_msg: '',
    task_id: realTask.taskId,
    callback_type: kind,
    record_user_id: realTask.recordUserId,
    room_id: REAL_ROOM_ID,
    group_id: String(REAL_ROOM_ID),
  };
  return kind === 'record_finished' ? { ...common, start_time: nowSeconds - 60, stop_time: nowSeconds, video_info: [] } : common;
}

const params = (numRuns = RUNS) => ({ seed: SEED, numRuns, endOnFailure: true });

// ---------------------------------------------------------------------------------------

describe(`hostile HTTP input (fast-check seed ${SEED})`, () => {
  it('refuses every platform-API request without a valid token with 401 in the API error shape, whatever else it carries', async () => {
    await fc.assert(
      fc.asyncProperty(apiRouteArb({ aimAtRealTask: true }), invalidAuthArb(), contentTypeArb, bodyArb(API_BODY_LIMIT_BYTES), extraHeadersArb, async (route, authorization, contentType, body, extra) => {
        const request: RawRequest = { ...route, headers: headerList(authorization, contentType, extra), ...(body === undefined ? {} : { body }) };
        const { response, body: answer } = await send(request);
        see('unauthenticated', response.status);
        if (answererFor(route.method, route.path) === 'api') {
          expect(response.status, `${route.method} ${route.path.slice(0, 100)}`).toBe(401);
          expect((answer as { error: { code: string } }).error.code).toBe('unauthorized');
          expect(response.headers['www-authenticate']).toBe('Bearer');
        }
      }),
      params(RUNS),
    );
  }, PROPERTY_TIMEOUT_MS);

  it('answers any body, content type and Idempotency-Key on POST /recordings with a 4xx in the API error shape (or a real start)', async () => {
    await fc.assert(
      fc.asyncProperty(contentTypeArb, bodyArb(API_BODY_LIMIT_BYTES), extraHeadersArb, async (contentType, body, extra) => {
        const request: RawRequest = {
          method: 'POST',
          path: '/recordings',
          headers: headerList([`Bearer ${apiToken}`], contentType, extra),
          ...(body === undefined ? {} : { body }),
        };
        const { response, body: answer } = await send(request);
        see('start-bodies', response.status);
        noteCreated(request, response, answer);
        expect([200, 202, 400, 409, 413, 415], response.text.slice(0, 200)).toContain(response.status);
        // Over the limit is always 413, at or under it never is.
        const sizeBytes = body === undefined ? 0 : Buffer.byteLength(body);
        const jsonType = contentType !== undefined && /^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(contentType);
        if (jsonType && sizeBytes > API_BODY_LIMIT_BYTES) expect(response.status).toBe(413);
        if (sizeBytes <= API_BODY_LIMIT_BYTES) expect(response.status).not.toBe(413);
        if (sizeBytes > 0 && !jsonType) expect(response.status).toBe(415);
      }),
      params(300),
    );
  }, PROPERTY_TIMEOUT_MS);

  it('answers hostile ids, room ids and query strings on the read and stop routes with the API error shape', async () => {
    const routes = fc.oneof(
      fc.tuple(segmentArb, queryArb).map(([id, query]) => ({ method: 'POST', path: `/recordings/${id}/stop${query}` })),
      fc.tuple(segmentArb, queryArb).map(([id, query]) => ({ method: 'GET', path: `/recordings/${id}${query}` })),
      fc.tuple(fc.oneof(segmentArb, fc.constant(String(REAL_ROOM_ID))), queryArb).map(([room, query]) => ({ method: 'GET', path: `/rooms/${room}/recordings${query}` })),
    );
    await fc.assert(
      fc.asyncProperty(routes, contentTypeArb, fc.option(bodyArb(API_BODY_LIMIT_BYTES), { nil: undefined }), async (route, contentType, body) => {
        const request: RawRequest = { ...route, headers: headerList([`Bearer ${apiToken}`], contentType, []), ...(body === undefined ? {} : { body }) };
        const { response } = await send(request);
        see('lookups', response.status);
        expect(response.status, `${route.method} ${route.path.slice(0, 100)} → ${response.text.slice(0, 200)}`).toBeLessThan(500);
        // None of these ids is a task: a stop here can only be refused.
        if (route.method === 'POST' && answererFor(route.method, route.path) === 'api') expect(response.status).not.toBe(202);
      }),
      params(RUNS),
    );
  }, PROPERTY_TIMEOUT_MS);

  it('answers every request to the callback route in the vendor error shape, and never accepts one without the secret path and a valid sign', async () => {
    const now = () => Math.floor(Date.now() / 1000);
    const secretArb = fc.oneof(
      segmentArb,
      fc.constantFrom(
        () => stack.functionEnv.CALLBACK_SECRET ?? '',
        () => (stack.functionEnv.CALLBACK_SECRET ?? '').slice(0, -1),
        () => `${stack.functionEnv.CALLBACK_SECRET ?? ''}x`,
        () => (stack.functionEnv.CALLBACK_SECRET ?? '').toUpperCase(),
        () => percentEncode(stack.functionEnv.CALLBACK_SECRET ?? ''),
      ).map((make) => make()),
    );
    const sdkappid = () => String(stack.emulator.options.sdkappid);
    const callbackQueryArb = fc.oneof(
      queryArb,
      fc
        .record(
          {
            sdkappid: fc.oneof(fc.constantFrom(() => sdkappid()).map((get) => get()), segmentArb),
            sign: fc.oneof(fc.stringMatching(/^[0-9a-f]{32}$/), segmentArb, fc.constant('')),
            random: fc.oneof(fc.integer().map(String), segmentArb),
          },
          { requiredKeys: [] },
        )
        .map((query) => `?${Object.entries(query).map(([name, value]) => `${name}=${value}`).join('&')}`),
    );
    const callbackBodyArb = fc.oneof(
      bodyArb(CALLBACK_BODY_LIMIT_BYTES),
      fc
        .record(
          {
            expire_time: fc.oneof(fc.integer({ min: -600, max: 600 }).map((delta) => now() + delta), wrongValueArb),
            timestamp: fc.oneof(fc.constantFrom(() => now()).map((get) => get()), wrongValueArb),
            callback_type: fc.oneof(fc.constantFrom('record_started', 'record_finished', 'RECORD_STARTED', ''), wrongValueArb),
            task_id: fc.oneof(fc.constantFrom(() => realTask.taskId).map((get) => get()), wrongValueArb),
            record_user_id: fc.oneof(fc.constantFrom(() => realTask.recordUserId).map((get) => get()), wrongValueArb),
            room_id: fc.oneof(fc.constant(REAL_ROOM_ID), wrongValueArb),
            group_id: fc.oneof(fc.constant(String(REAL_ROOM_ID)), wrongValueArb),
            error_code: fc.oneof(fc.constantFrom(0, 20099), wrongValueArb),
            error_msg: fc.oneof(fc.constant(''), wrongValueArb),
            start_time: fc.oneof(fc.constantFrom(() => now() - 10).map((get) => get()), wrongValueArb),
            stop_time: fc.oneof(fc.constantFrom(() => now()).map((get) => get()), wrongValueArb),
            video_info: fc.oneof(fc.constant([]), fc.array(fc.object({ maxDepth: 1 }), { maxLength: 2 }), wrongValueArb),
          },
          { requiredKeys: [] },
        )
        .map((body) => JSON.stringify(body)),
    );
    await fc.assert(
      fc.asyncProperty(secretArb, callbackQueryArb, contentTypeArb, callbackBodyArb, extraHeadersArb, async (secret, query, contentType, body, extra) => {
        const request: RawRequest = { method: 'POST', path: `/tic/callback/${secret}${query}`, headers: headerList([], contentType, extra), ...(body === undefined ? {} : { body }) };
        const { response, body: answer } = await send(request);
        if (answererFor(request.method, request.path) !== 'callback') return;
        see('callback', `${response.status}/${(answer as { error_code: number }).error_code}`);
        const errorCode = (answer as { error_code: number }).error_code;
        const realSecret = secret === stack.functionEnv.CALLBACK_SECRET;
        const realApp = new URL(`http://x${request.path}`).searchParams.get('sdkappid') === sdkappid();
        const sizeBytes = body === undefined ? 0 : Buffer.byteLength(body);
        if (sizeBytes > CALLBACK_BODY_LIMIT_BYTES) {
          // Refused: unread before the path secret is looked at, or (a body the gateway passed
          // base64-encoded, whose decoded size only the verifier measures) by the earlier checks.
          expect([[413, 20003], [404, 20002], [403, 20000]]).toContainEqual([response.status, errorCode]);
        } else if (!realSecret) {
          expect([response.status, errorCode]).toEqual([404, 20002]);
        } else if (!realApp) {
          expect([response.status, errorCode]).toEqual([403, 20000]);
        }
        // Accepted only as the registration probe (no known callback_type): no sign here is valid.
        if (errorCode === 0) {
          expect(realSecret && realApp).toBe(true);
        } else {
          expect([20000, 20001, 20002, 20003]).toContain(errorCode);
        }
      }),
      params(300),
    );
  }, PROPERTY_TIMEOUT_MS);

  it('refuses a well-formed callback for the real task through the secret path unless its sign is valid now (20001 expired, 20002 otherwise)', async () => {
    const ticKey = stack.functionEnv.TIC_KEY ?? '';
    const maxFutureSeconds = 24 * 60 * 60;
    const now = () => Math.floor(Date.now() / 1000);
    const caseArb = fc.record({
      kind: fc.constantFrom('record_started', 'record_finished'),
      // Past, within the window, or beyond it; never "now" exactly, to stay clear of the boundary second.
      expireOffsetSeconds: fc.oneof(fc.integer({ min: -10_000_000, max: -2 }), fc.integer({ min: 5, max: 600 }), fc.integer({ min: maxFutureSeconds + 5, max: 10_000_000 })),
      signKind: fc.constantFrom('random', 'other-key', 'other-expire', 'key-only', 'correct-outside-window', 'upper-other-key'),
      randomHex: fc.stringMatching(/^[0-9a-f]{32}$/),
      otherKey: fc.string({ minLength: 1, maxLength: 40 }),
      random: fc.oneof(fc.integer({ min: 1, max: 2 ** 31 - 1 }).map(String), segmentArb),
    });
    await fc.assert(
      fc.asyncProperty(caseArb, async ({ kind, expireOffsetSeconds, signKind, randomHex, otherKey, random }) => {
        const expireTime = now() + expireOffsetSeconds;
        const outsideWindow = expireOffsetSeconds < 0 || expireOffsetSeconds > maxFutureSeconds;
        const sign = {
          random: randomHex,
          'other-key': md5Sign(otherKey === ticKey ? `${otherKey}x` : otherKey, expireTime),
          'upper-other-key': md5Sign(`${ticKey}x`, expireTime).toUpperCase(),
          'other-expire': md5Sign(ticKey, expireTime + 1),
          'key-only': md5Sign(ticKey, 0),
          // A genuine sign, but for an expire_time that is past or too far ahead.
          'correct-outside-window': outsideWindow ? md5Sign(ticKey, expireTime) : randomHex,
        }[signKind];
        const body = JSON.stringify(realCallbackBody(kind, expireTime));
        const path = `/tic/callback/${stack.functionEnv.CALLBACK_SECRET}?sdkappid=${stack.emulator.options.sdkappid}&sign=${sign}&random=${random}`;
        const { response, body: answer } = await send({ method: 'POST', path, headers: [['content-type', 'application/json']], body });
        const errorCode = (answer as { error_code: number }).error_code;
        see('signed-callbacks', `${response.status}/${errorCode}`);
        expect(response.status).toBe(401);
        expect(errorCode).toBe(expireOffsetSeconds < 0 ? 20001 : 20002);
      }),
      params(RUNS),
    );
  }, PROPERTY_TIMEOUT_MS);

  it('answers unknown paths and wrong methods with the gateway 404 {"message":"Not Found"}', async () => {
    const methodArb = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE', 'PROPFIND', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK', 'SEARCH', 'PURGE', 'REPORT');
    const knownPathArb = fc.constantFrom('/recordings', '/recordings/x', '/recordings/x/stop', '/rooms/1/recordings', '/tic/callback/x');
    const pathArb = fc.oneof(
      knownPathArb,
      knownPathArb.map((path) => `${path}/`),
      knownPathArb.map((path) => `/api${path}`),
      fc.array(segmentArb, { minLength: 0, maxLength: 4 }).map((segments) => `/${segments.join('/')}`),
      fc.tuple(fc.constantFrom('/recordings/', '/rooms/', '/tic/callback/'), segmentArb, fc.constantFrom('', '/stop', '/recordings', '/x')).map((parts) => parts.join('')),
      fc.constantFrom('/', '//', '///recordings', '/recordings//stop', '/RECORDINGS', '/rooms//recordings', '/tic/callback/', '/tic/callback', '/_emulator/stats', '/record/v1/online/start', '/%2e%2e/%2e%2e/etc/passwd', '/recordings/%2e%2e/rooms/1/recordings', '/*', '/favicon.ico'),
    );
    await fc.assert(
      fc.asyncProperty(methodArb, pathArb, queryArb, fc.boolean(), fc.option(bodyArb(API_BODY_LIMIT_BYTES), { nil: undefined }), async (method, path, query, withToken, body) => {
        const full = `${path}${query}`;
        const request: RawRequest = {
          method,
          path: full,
          headers: headerList(withToken ? [`Bearer ${apiToken}`] : [], 'application/json', []),
          ...(body === undefined || method === 'HEAD' ? {} : { body }),
        };
        const { response, body: answer } = await send(request);
        see('unknown-routes', response.status);
        noteCreated(request, response, answer);
        if (answererFor(method, full) === 'gateway' && method !== 'HEAD') {
          expect(answer, `${method} ${full.slice(0, 100)}`).toEqual({ message: response.status === 404 ? 'Not Found' : 'Bad Request' });
        }
      }),
      params(RUNS),
    );
  }, PROPERTY_TIMEOUT_MS);

  it('reached every kind of refusal (the generators are not trivial)', () => {
    const outcomes = (property: string) => [...(seen.get(property) ?? [])];
    expect(outcomes('unauthenticated')).toEqual(expect.arrayContaining(['401', '404']));
    expect(outcomes('start-bodies')).toEqual(expect.arrayContaining(['400', '413', '415']));
    expect(outcomes('lookups')).toEqual(expect.arrayContaining(['200', '400', '404']));
    expect(outcomes('callback')).toEqual(expect.arrayContaining(['200/0', '400/20003', '403/20000', '404/20002', '413/20003']));
    expect(outcomes('signed-callbacks').sort()).toEqual(['401/20001', '401/20002']);
    expect(outcomes('unknown-routes')).toContain('404');
  });

  it('refuses a path parameter that is not valid percent-encoding with the gateway 400, on every route, before any handler', async () => {
    const routes = (segment: string): RouteCase[] => [
      { method: 'POST', path: `/recordings/${segment}/stop` },
      { method: 'GET', path: `/recordings/${segment}` },
      { method: 'GET', path: `/rooms/${segment}/recordings` },
      { method: 'POST', path: `/tic/callback/${segment}` },
    ];
    for (const segment of ['%', 'abc%', '%Z', '%ZZ', '%C3', '%E0%A4%A', '%ED%A0%80', '%FF', '%C0%AF', `${realTask.recordUserId}%`]) {
      for (const route of routes(segment)) {
        // A valid token: only the gateway may answer, not the 401 of a handler.
        const { response, body } = await send({ ...route, headers: [['authorization', `Bearer ${apiToken}`], ['content-type', 'application/json']], body: '{}' });
        expect([route.path, response.status, body]).toEqual([route.path, 400, { message: 'Bad Request' }]);
      }
    }
  });

  it('changed nothing that an unauthenticated or invalid request could reach', async () => {
    // No prototype was polluted by a body (the handlers ran in this very process).
    expect(Object.keys(Object.prototype)).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).room_id).toBeUndefined();

    // The table holds the real task and the tasks authenticated starts were told of, nothing else.
    const expected = [realTask.recordUserId, ...createdByAuthenticated].sort();
    expect(await taskIdsInTable(stack)).toEqual(expected);
    // The real task is exactly as it was: no stop, no callback, no field touched.
    expect(await realItem()).toEqual(realItemBefore);
    expect(await realView()).toBe(realViewBefore);
    // The emulator was asked to start only what authenticated requests started, and to stop nothing.
    const stats = stack.emulator.stats();
    expect(stats.requests.start).toBe(expected.length);
    expect(stats.requests.stop).toBe(0);
    expect(stats.tasks.stopped).toBe(0);
    // The room listing agrees with the table for the real room.
    const listing = (await (await fetch(`${stack.apiUrl}/rooms/${REAL_ROOM_ID}/recordings?limit=100`, { headers: auth() })).json()) as { recordings: { record_user_id: string }[] };
    expect(listing.recordings.map((item) => item.record_user_id)).toEqual(expected.filter((id) => id.startsWith(`tic_record_user_${REAL_ROOM_ID}_`)));
  });
});
