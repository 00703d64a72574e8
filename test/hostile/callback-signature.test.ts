/**
 * The callback route's checks, case by case, against a genuine signed callback captured from
 * the emulator: each forged, stale or misdirected variant is answered in the vendor's error
 * shape with the vendor's code, and changes nothing (the task read through the API and its
 * DynamoDB item are the same before and after).
 *
 * Codes (CONTRACT.md "Error codes"; lib/tic/callback-request.ts): unknown path secret 404
 * 20002, wrong or missing sdkappid 403 20000, sign missing/malformed/wrong or expire_time too
 * far ahead 401 20002, expire_time past 401 20001, unreadable body 400 20003.
 */
import { randomBytes } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { LambdaHandler } from '../../local/http-gateway';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { useLocalAws } from '../support/local-aws';
import { md5Sign, scanTable, sendRaw, stackSecrets, waitFor, type RawResponse } from './support';

const ROOM_ID = 515_151;
/** lib/config.ts's default window for a callback's expire_time ahead of now. */
const MAX_FUTURE_SECONDS = 24 * 60 * 60;

interface CapturedCallback {
  event: APIGatewayProxyEventV2;
  answer: { statusCode: number; body: string };
}

let stack: LocalStack;
let secrets: string[];
const captured: CapturedCallback[] = [];
let recordUserId: string;
let genuine: { query: URLSearchParams; body: Record<string, unknown>; expireTime: number };

const auth = () => ({ authorization: `Bearer ${stack.apiToken}` });
const nowSeconds = () => Math.floor(Date.now() / 1000);
const ticKey = () => stack.functionEnv.TIC_KEY ?? '';
const callbackSecret = () => stack.functionEnv.CALLBACK_SECRET ?? '';
const sdkappid = () => String(stack.emulator.options.sdkappid);

/** Records every callback event the handler receives (what the emulator sent, as the gateway made it) and the answer. */
function capturingCallbacks(functionName: string, handler: LambdaHandler): LambdaHandler {
  if (functionName !== 'ticCallback') return handler;
  return async (event: APIGatewayProxyEventV2, context) => {
    const copy = structuredClone(event);
    const answer = (await handler(event, context)) as CapturedCallback['answer'];
    captured.push({ event: copy, answer });
    return answer;
  };
}

async function taskView(): Promise<string> {
  const response = await fetch(`${stack.apiUrl}/recordings/${recordUserId}`, { headers: auth() });
  expect(response.status).toBe(200);
  return response.text();
}

async function tableState(): Promise<string> {
  const items = await scanTable(stack);
  return JSON.stringify(items.sort((a, b) => String(a.pk).localeCompare(String(b.pk))));
}

interface CallbackCall {
  secret?: string;
  query: URLSearchParams | string;
  body: Record<string, unknown> | string;
}

async function postCallback(call: CallbackCall): Promise<RawResponse> {
  const query = typeof call.query === 'string' ? call.query : call.query.toString();
  return sendRaw(stack.apiUrl, {
    method: 'POST',
    path: `/tic/callback/${call.secret ?? callbackSecret()}${query ? `?${query}` : ''}`,
    headers: [['content-type', 'application/json']],
    body: typeof call.body === 'string' ? call.body : JSON.stringify(call.body),
  });
}

/** The genuine query with some parameters replaced (undefined: removed). */
function queryWith(changes: Record<string, string | undefined>): URLSearchParams {
  const query = new URLSearchParams(genuine.query);
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) query.delete(name);
    else query.set(name, value);
  }
  return query;
}

/** A copy of the genuine body with `expire_time` moved, and the TicKey's own sign for it. */
function resigned(expireTime: number): { body: Record<string, unknown>; query: URLSearchParams } {
  return { body: { ...genuine.body, expire_time: expireTime }, query: queryWith({ sign: md5Sign(ticKey(), expireTime) }) };
}

/**
 * Sends a forged or stale callback and checks the answer and that nothing changed: the
 * task as the API shows it and every item of the table.
 */
async function expectRefusedUnchanged(call: CallbackCall, httpStatus: number, errorCode: number): Promise<{ error_msg: string }> {
  const [viewBefore, tableBefore] = [await taskView(), await tableState()];
  const response = await postCallback(call);
  for (const secret of secrets) expect(response.text.includes(secret)).toBe(false);
  const answer = JSON.parse(response.text) as { error_code: number; error_msg: string };
  expect([response.status, answer.error_code]).toEqual([httpStatus, errorCode]);
  expect(Object.keys(answer).sort()).toEqual(['error_code', 'error_msg']);
  expect(typeof answer.error_msg).toBe('string');
  expect(answer.error_msg.length).toBeGreaterThan(0);
  expect(await taskView()).toBe(viewBefore);
  expect(await tableState()).toBe(tableBefore);
  return answer;
}

beforeAll(async () => {
  stack = await startLocalStack({
    mode: 'in-process',
    aws: { ...useLocalAws(), nameSuffix: `hostile-sign-${randomBytes(3).toString('hex')}` },
    emulator: { startDelayMs: 100, stopDelayMs: 100, processingDelayMs: 100, callbackRetryIntervalMs: 200, callbackMaxRetries: 3 },
    functionEnv: { START_CHECK_DELAY_SECONDS: '1', STOP_CHECK_DELAY_SECONDS: '1', LOG_LEVEL: 'ERROR' },
    sweepIntervalMs: 600_000,
    wrapHandler: capturingCallbacks,
  });
  secrets = stackSecrets(stack);
  const started = await fetch(`${stack.apiUrl}/recordings`, {
    method: 'POST',
    headers: { ...auth(), 'content-type': 'application/json' },
    body: JSON.stringify({ room_id: ROOM_ID }),
  });
  expect(started.status).toBe(202);
  recordUserId = ((await started.json()) as { record_user_id: string }).record_user_id;
  stack.emulator.join(ROOM_ID, 'teacher', { camera: true });

  // The emulator's own record_started, signed with the TicKey, accepted by the receiver.
  const first = await waitFor('the emulator to deliver record_started', async () =>
    captured.find((call) => call.event.body?.includes('"record_started"') && JSON.parse(call.answer.body).error_code === 0),
  );
  const body = JSON.parse(first.event.body ?? '{}') as Record<string, unknown>;
  genuine = { query: new URLSearchParams(first.event.rawQueryString), body, expireTime: Number(body.expire_time) };
  await waitFor('the task to be recording', async () => (JSON.parse(await taskView()).status === 'recording' ? true : undefined));
  // Let the start-phase check find its phase done, so that the task is at rest.
  await new Promise((resolve) => setTimeout(resolve, 2_000));
}, 60_000);

afterEach(() => {
  vi.useRealTimers();
});

afterAll(async () => {
  await stack?.stop();
});

describe('callback signature checks', () => {
  it('the captured callback is genuine: the emulator signed it with md5(TicKey + expire_time), and it is accepted again while its sign is valid', async () => {
    expect(genuine.query.get('sign')).toBe(md5Sign(ticKey(), genuine.expireTime));
    expect(genuine.query.get('sdkappid')).toBe(sdkappid());
    expect(genuine.expireTime).toBeGreaterThan(nowSeconds());
    // A replay within the window is the duplicate the vendor's own retries produce: answered 0.
    // (The sign covers no body; the path secret is what keeps a stranger from doing this.)
    const response = await postCallback({ query: genuine.query, body: genuine.body });
    expect([response.status, JSON.parse(response.text)]).toEqual([200, { error_code: 0 }]);
  });

  it('refuses the genuine callback replayed after its expire_time has passed (20001)', async () => {
    // The very same request, sent when the receiver's clock is past its expire_time.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime((genuine.expireTime + 5) * 1000);
    const answer = await expectRefusedUnchanged({ query: genuine.query, body: genuine.body }, 401, 20001);
    expect(answer.error_msg).toMatch(/expired/);
  });

  it('refuses a callback whose sign is genuine for an expire_time already past (20001)', async () => {
    for (const secondsAgo of [1, 60, 301, 86_400 * 365]) {
      await expectRefusedUnchanged(resigned(nowSeconds() - secondsAgo), 401, 20001);
    }
  });

  it('refuses a far-future expire_time even with the TicKey\'s own sign for it (20002)', async () => {
    for (const ahead of [MAX_FUTURE_SECONDS + 60, 30 * 86_400, 2 ** 31 - nowSeconds()]) {
      const answer = await expectRefusedUnchanged(resigned(nowSeconds() + ahead), 401, 20002);
      expect(answer.error_msg).toMatch(/future/);
    }
  });

  it('refuses a wrong, malformed or missing sign (20002)', async () => {
    const expireTime = genuine.expireTime;
    const wrongSigns = [
      md5Sign(`${ticKey()}x`, expireTime), // another key
      md5Sign(ticKey(), expireTime + 1), // the key, another expire_time
      md5Sign(ticKey(), 0),
      md5Sign('', expireTime),
      '0'.repeat(32),
      `${md5Sign(ticKey(), expireTime)}0`, // 33 characters
      md5Sign(ticKey(), expireTime).slice(1),
      'not-a-sign',
      '',
    ];
    for (const sign of wrongSigns) {
      await expectRefusedUnchanged({ query: queryWith({ sign }), body: genuine.body }, 401, 20002);
    }
    await expectRefusedUnchanged({ query: queryWith({ sign: undefined }), body: genuine.body }, 401, 20002);
    // The sign is checked against the body's expire_time, not one of the query's.
    await expectRefusedUnchanged({ query: `${queryWith({}).toString()}&expire_time=${expireTime + 10}`, body: { ...genuine.body, expire_time: expireTime + 10 } }, 401, 20002);
  });

  it('refuses a wrong or missing sdkappid (20000)', async () => {
    for (const value of [String(Number(sdkappid()) + 1), '0', '-1', `${sdkappid()}0`, ` ${sdkappid()}`, 'abc', '']) {
      await expectRefusedUnchanged({ query: queryWith({ sdkappid: value }), body: genuine.body }, 403, 20000);
    }
    await expectRefusedUnchanged({ query: queryWith({ sdkappid: undefined }), body: genuine.body }, 403, 20000);
    // Two sdkappids are joined by the gateway ("a,b"): not ours either.
    await expectRefusedUnchanged({ query: `${queryWith({}).toString()}&sdkappid=${sdkappid()}`, body: genuine.body }, 403, 20000);
  });

  it('refuses a wrong path secret before anything else (20002), whatever the rest', async () => {
    const secret = callbackSecret();
    const wrongSecrets = [
      randomBytes(24).toString('base64url'),
      secret.slice(0, -1),
      `${secret}x`,
      secret.slice(1),
      secret.toUpperCase() === secret ? secret.toLowerCase() : secret.toUpperCase(),
      encodeURIComponent(`${secret}/`),
      'x',
    ];
    for (const wrong of wrongSecrets) {
      await expectRefusedUnchanged({ secret: wrong, query: genuine.query, body: genuine.body }, 404, 20002);
      // Even with everything else wrong too, the answer says only "unknown path".
      await expectRefusedUnchanged({ secret: wrong, query: '', body: 'not json' }, 404, 20002);
    }
  });

  it('refuses a request with no query at all (20000: sdkappid comes first), or with only some of it', async () => {
    await expectRefusedUnchanged({ query: '', body: genuine.body }, 403, 20000);
    await expectRefusedUnchanged({ query: queryWith({ sign: undefined, random: undefined }), body: genuine.body }, 401, 20002);
    await expectRefusedUnchanged({ query: queryWith({ sdkappid: undefined, random: undefined }), body: genuine.body }, 403, 20000);
  });

  it('refuses a body it cannot read, through the secret path, with 20003 so that the vendor retries', async () => {
    const { expire_time: _expireTime, ...withoutExpireTime } = genuine.body;
    const query = genuine.query;
    await expectRefusedUnchanged({ query, body: withoutExpireTime }, 400, 20003);
    await expectRefusedUnchanged({ query, body: { ...genuine.body, expire_time: String(genuine.expireTime) } }, 400, 20003);
    await expectRefusedUnchanged({ query, body: { ...genuine.body, room_id: String(ROOM_ID) } }, 400, 20003);
    await expectRefusedUnchanged({ query, body: { ...genuine.body, task_id: 42 } }, 400, 20003);
    await expectRefusedUnchanged({ query, body: '[1,2,3]' }, 400, 20003);
    await expectRefusedUnchanged({ query, body: '{"callback_type":"record_started",' }, 400, 20003);
  });
});
