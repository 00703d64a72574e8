/**
 * The platform API's refusals (every 4xx, and 502 for a vendor refusal), room listings with
 * their cursor, and the callback route's own checks, all over HTTP. No answer ever carries
 * a stack trace, and a refused request changes nothing.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { useLocalAws } from '../support/local-aws';
import { ApiClient, FAST_EMULATOR, FAST_FUNCTION_ENV, expectNoStackTrace, sleep, vendorSign, type ApiErrorBody, type ApiTask } from './helpers';

let stack: LocalStack;
let api: ApiClient;

beforeAll(async () => {
  stack = await startLocalStack({
    mode: 'in-process',
    aws: { ...useLocalAws(), nameSuffix: 'be-api-contract' },
    emulator: { ...FAST_EMULATOR },
    // No start-phase check within a test: the callback-route tests drive the status themselves.
    functionEnv: { ...FAST_FUNCTION_ENV, START_CHECK_DELAY_SECONDS: '30' },
  });
  api = new ApiClient(stack);
}, 60_000);

afterEach(() => {
  stack.emulator.clearFaults();
});

afterAll(async () => {
  await stack?.stop();
});

function expectApiError(response: { status: number; text: string; body: unknown }, status: number, code: string, field?: string): void {
  expect(response.status, response.text).toBe(status);
  const { error } = response.body as ApiErrorBody;
  expect(error.code).toBe(code);
  expect(typeof error.message).toBe('string');
  if (field !== undefined) expect(error.field).toBe(field);
  expectNoStackTrace(response.text);
}

describe('400: the offending field is named', () => {
  const cases: [string, unknown, string][] = [
    ['room_id missing', {}, 'room_id'],
    ['room_id a string', { room_id: '12' }, 'room_id'],
    ['room_id negative', { room_id: -1 }, 'room_id'],
    ['room_id zero', { room_id: 0 }, 'room_id'],
    ['room_id a fraction', { room_id: 1.5 }, 'room_id'],
    ['room_id past int32', { room_id: 2 ** 31 }, 'room_id'],
    ['room_id null', { room_id: null }, 'room_id'],
    ['group_id too long', { room_id: 4001, group_id: 'g'.repeat(65) }, 'group_id'],
    ['group_id empty', { room_id: 4001, group_id: '' }, 'group_id'],
    ['group_id a number', { room_id: 4001, group_id: 7 }, 'group_id'],
    ['whiteboard a string', { room_id: 4001, whiteboard: 'big' }, 'whiteboard'],
    ['whiteboard width zero', { room_id: 4001, whiteboard: { width: 0, height: 720 } }, 'whiteboard.width'],
    ['whiteboard height missing', { room_id: 4001, whiteboard: { width: 1280 } }, 'whiteboard.height'],
    ['whiteboard too wide', { room_id: 4001, whiteboard: { width: 100_000, height: 720 } }, 'whiteboard.width'],
    ['user_sig empty', { room_id: 4001, user_sig: '' }, 'user_sig'],
  ];

  it.each(cases)('POST /recordings with %s', async (_name, body, field) => {
    const startsBefore = stack.emulator.stats().requests.start;
    const response = await api.start(body);
    expectApiError(response, 400, 'invalid_request', field);
    expect(stack.emulator.stats().requests.start).toBe(startsBefore);
  });

  // An unknown key is reported as the field itself (its path), and the message names it too.
  const unknownKeys: [string, unknown, string, string][] = [
    ['an unknown field', { room_id: 4001, record_user_id: 'mine' }, 'record_user_id', 'record_user_id'],
    ['an unknown whiteboard field', { room_id: 4001, whiteboard: { width: 1280, height: 720, depth: 3 } }, 'whiteboard.depth', 'depth'],
  ];

  it.each(unknownKeys)('POST /recordings with %s', async (_name, body, field, key) => {
    const startsBefore = stack.emulator.stats().requests.start;
    const response = await api.start(body);
    expectApiError(response, 400, 'invalid_request', field);
    expect(response.body.error.message).toContain(`"${key}"`);
    expect(stack.emulator.stats().requests.start).toBe(startsBefore);
  });

  const rawBodies: [string, string, string][] = [
    ['a body that is not JSON', '{"room_id": 1', 'body'],
    ['a JSON array', '[{"room_id": 4001}]', 'body'],
    ['JSON null', 'null', 'body'],
    ['a JSON number', '4001', 'body'],
    ['an empty body', '', 'body'],
  ];

  it.each(rawBodies)('POST /recordings with %s', async (_name, body, field) => {
    const response = await api.request('POST', '/recordings', {
      headers: { ...api.authHeaders, 'content-type': 'application/json' },
      body,
    });
    expectApiError(response, 400, 'invalid_request', field);
  });

  it('names a bad Idempotency-Key, a bad page size and a bad room id in the path', async () => {
    expectApiError(await api.start({ room_id: 4001 }, { 'idempotency-key': 'k'.repeat(256) }), 400, 'invalid_request', 'Idempotency-Key');
    expectApiError(await api.list(4001, { limit: '0' }), 400, 'invalid_request', 'limit');
    expectApiError(await api.list(4001, { limit: '101' }), 400, 'invalid_request', 'limit');
    expectApiError(await api.list(4001, { limit: 'ten' }), 400, 'invalid_request', 'limit');
    expectApiError(await api.list('abc'), 400, 'invalid_request', 'room_id');
    expectApiError(await api.list('-5'), 400, 'invalid_request', 'room_id');
    expectApiError(await api.list(String(2 ** 31)), 400, 'invalid_request', 'room_id');
    // None of it started anything.
    expect((await api.list(4001)).body.recordings).toEqual([]);
  });
});

describe('401: nothing happens without a valid bearer token', () => {
  it('refuses a missing header, a wrong token and a wrong scheme, and creates no task', async () => {
    const roomId = 4002;
    const startsBefore = stack.emulator.stats().requests.start;
    const body = JSON.stringify({ room_id: roomId });
    const headerSets: Record<string, string>[] = [
      {},
      { authorization: 'Bearer not-the-token-at-all' },
      { authorization: `Bearer ${stack.apiToken}x` },
      { authorization: `Basic ${Buffer.from(`local:${stack.apiToken}`).toString('base64')}` },
      { authorization: stack.apiToken },
      { authorization: 'Bearer' },
    ];
    for (const headers of headerSets) {
      const response = await api.request('POST', '/recordings', { headers: { ...headers, 'content-type': 'application/json' }, body });
      expectApiError(response, 401, 'unauthorized');
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      expect(response.text).not.toContain(stack.apiToken);
    }
    // Auth comes before the body: even an invalid body is a 401, not a 400.
    const noAuthBadBody = await api.request('POST', '/recordings', { headers: { 'content-type': 'application/json' }, body: '[' });
    expectApiError(noAuthBadBody, 401, 'unauthorized');
    // The other routes too.
    for (const [method, path] of [
      ['GET', `/rooms/${roomId}/recordings`],
      ['GET', '/recordings/abcdefghij0123456789'],
      ['POST', '/recordings/abcdefghij0123456789/stop'],
    ] as const) {
      expectApiError(await api.request(method, path, { headers: { authorization: 'Bearer wrong' } }), 401, 'unauthorized');
    }

    expect(stack.emulator.stats().requests.start).toBe(startsBefore);
    const listed = await api.list(roomId);
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual({ recordings: [], next_cursor: null });
  });
});

describe('404, 413, 415', () => {
  it('404 for an unknown task, by task id and by record user id, on GET and stop', async () => {
    const stopsBefore = stack.emulator.stats().requests.stop;
    for (const id of ['abcdefghij0123456789', 'tic_record_user_4003_nosuchtask', 'x'.repeat(129)]) {
      expectApiError(await api.get(id), 404, 'not_found');
      expectApiError(await api.stop(id), 404, 'not_found');
    }
    expect(stack.emulator.stats().requests.stop).toBe(stopsBefore);
  });

  it('413 for a body over 16 KB, 415 for a body that is not JSON by its content type', async () => {
    const startsBefore = stack.emulator.stats().requests.start;
    const oversized = await api.request('POST', '/recordings', {
      headers: { ...api.authHeaders, 'content-type': 'application/json' },
      body: JSON.stringify({ room_id: 4004, group_id: 'g'.repeat(17 * 1024) }),
    });
    expectApiError(oversized, 413, 'payload_too_large');
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
      const wrongType = await api.request('POST', '/recordings', {
        headers: { ...api.authHeaders, 'content-type': contentType },
        body: JSON.stringify({ room_id: 4004 }),
      });
      expectApiError(wrongType, 415, 'unsupported_media_type');
    }
    // A charset parameter is fine.
    const withCharset = await api.request('POST', '/recordings', {
      headers: { ...api.authHeaders, 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ room_id: 4004 }),
    });
    expect(withCharset.status, withCharset.text).toBe(202);
    expect(stack.emulator.stats().requests.start - startsBefore).toBe(1);
  });
});

describe('502: the vendor refused', () => {
  it('a refused start is 502 with the vendor code, message and random, is never retried, and leaves a failed task', async () => {
    const roomId = 4005;
    stack.emulator.setFaults({ start: { errorNext: 1 } });
    const startsBefore = stack.emulator.stats().requests.start;
    const response = await api.start({ room_id: roomId });
    expectApiError(response, 502, 'upstream_refused');
    const { upstream } = response.body.error;
    expect(upstream?.operation).toBe('start');
    expect(upstream?.error_code).toBe(20099);
    expect(upstream?.error_msg).toEqual(expect.any(String));
    expect(upstream?.error_msg.length).toBeGreaterThan(0);
    expect(Number.isInteger(upstream?.random)).toBe(true);
    expect(upstream?.random).toBeGreaterThan(0);
    expect(stack.emulator.stats().requests.start - startsBefore).toBe(1);

    const listed = await api.list(roomId);
    expect(listed.body.recordings).toHaveLength(1);
    const failed = listed.body.recordings[0] as ApiTask;
    expect(failed.status).toBe('failed');
    expect(failed.failure).toMatchObject({ reason: 'start_refused', code: 20099 });
    expect(failed.last_upstream_error).toMatchObject({ operation: 'start', code: 20099, random: upstream?.random });
    expect(failed.task_id).toBeNull();
    expect((await api.task(failed.record_user_id)).status).toBe('failed');
  });

  it('a stop refused on every try is 502; the task keeps recording and a later stop succeeds', async () => {
    const roomId = 4006;
    stack.emulator.join(roomId, 'teacher', { camera: true });
    const task = await api.started({ room_id: roomId });
    await api.waitForStatus(task.record_user_id, 'recording');
    stack.emulator.setFaults({ stop: { errorNext: 10 } });
    const stopsBefore = stack.emulator.stats().requests.stop;
    const refused = await api.stop(task.record_user_id);
    expectApiError(refused, 502, 'upstream_refused');
    expect(refused.body.error.upstream).toMatchObject({ operation: 'stop', error_code: 20099 });
    // 20099 is transient: the client tried again, a bounded number of times.
    const tries = stack.emulator.stats().requests.stop - stopsBefore;
    expect(tries).toBeGreaterThanOrEqual(1);
    expect(tries).toBeLessThanOrEqual(5);
    const still = await api.task(task.record_user_id);
    expect(still.status).toBe('recording');
    expect(still.last_upstream_error).toMatchObject({ operation: 'stop', code: 20099 });

    stack.emulator.clearFaults();
    const stopped = await api.stop(task.record_user_id);
    expect(stopped.status, stopped.text).toBe(202);
    await api.waitForStatus(task.record_user_id, 'finished');
  });
});

describe('room listings', () => {
  it('lists newest first, page by page with an opaque cursor', async () => {
    const roomId = 4007;
    const created: string[] = [];
    for (let index = 0; index < 5; index += 1) {
      created.push((await api.started({ room_id: roomId })).record_user_id);
      await sleep(5);
    }
    const pages: ApiTask[][] = [];
    let cursor: string | null = null;
    do {
      const response = await api.list(roomId, { limit: '2', ...(cursor === null ? {} : { cursor }) });
      expect(response.status, response.text).toBe(200);
      pages.push(response.body.recordings);
      cursor = response.body.next_cursor;
      expect(pages.length).toBeLessThanOrEqual(3);
    } while (cursor !== null);
    expect(pages.map((page) => page.length)).toEqual([2, 2, 1]);
    const listed = pages.flat();
    expect(listed.map((task) => task.record_user_id)).toEqual([...created].reverse());
    expect(listed.every((task) => task.room_id === roomId)).toBe(true);
    const times = listed.map((task) => Date.parse(task.created_at));
    expect(times).toEqual([...times].sort((a, b) => b - a));

    // The default page holds them all; another room holds none of them.
    const whole = await api.list(roomId);
    expect(whole.body.recordings.map((task) => task.record_user_id)).toEqual([...created].reverse());
    expect(whole.body.next_cursor).toBeNull();
    expect((await api.list(roomId + 1)).body.recordings).toEqual([]);
  });

  it('refuses a tampered cursor, or one of another room, naming the cursor', async () => {
    const roomId = 4008;
    for (let index = 0; index < 3; index += 1) await api.started({ room_id: roomId });
    const first = await api.list(roomId, { limit: '1' });
    const cursor = first.body.next_cursor as string;
    expect(cursor).toEqual(expect.any(String));
    const forged = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const tampered = [
      `A${cursor.slice(1)}`,
      cursor.slice(0, -6),
      `${cursor}!`,
      'not a cursor',
      forged({ room_id: roomId }),
      forged(['USER#x', roomId, new Date().toISOString()]),
    ];
    for (const bad of tampered) {
      expectApiError(await api.list(roomId, { limit: '1', cursor: bad }), 400, 'invalid_request', 'cursor');
    }
    // A cursor is for its own room only.
    expectApiError(await api.list(4007, { limit: '1', cursor }), 400, 'invalid_request', 'cursor');
    // The genuine one still works.
    const second = await api.list(roomId, { limit: '1', cursor });
    expect(second.status, second.text).toBe(200);
    expect(second.body.recordings).toHaveLength(1);
    expect(second.body.recordings[0]?.record_user_id).not.toBe(first.body.recordings[0]?.record_user_id);
  });
});

describe('the callback route', () => {
  const nowSeconds = () => Math.floor(Date.now() / 1000);
  let random = 1000;

  function callbackUrl(options: { secret?: string; sdkappid?: string; sign?: string; expireTime: number }): string {
    const secret = options.secret ?? stack.functionEnv.CALLBACK_SECRET ?? '';
    const query = new URLSearchParams({
      sdkappid: options.sdkappid ?? stack.functionEnv.TIC_SDKAPPID ?? '',
      sign: options.sign ?? vendorSign(stack.functionEnv.TIC_KEY ?? '', options.expireTime),
      random: String((random += 1)),
    });
    return `${stack.apiUrl}/tic/callback/${encodeURIComponent(secret)}?${query}`;
  }

  async function post(url: string, body: unknown): Promise<{ status: number; text: string; body: { error_code: number; error_msg?: string } }> {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
    const text = await response.text();
    return { status: response.status, text, body: JSON.parse(text) as { error_code: number; error_msg?: string } };
  }

  function startedBody(task: ApiTask, expireTime: number, taskId = task.task_id as string) {
    return {
      expire_time: expireTime,
      timestamp: nowSeconds(),
      error_code: 0,
      error_msg: '',
      task_id: taskId,
      callback_type: 'record_started',
      record_user_id: task.record_user_id,
      room_id: task.room_id,
      group_id: String(task.room_id),
    };
  }

  it('answers the registration probe with {"error_code":0}', async () => {
    const expireTime = nowSeconds() + 300;
    const answer = await post(callbackUrl({ expireTime, sign: '' }), { expire_time: expireTime, timestamp: nowSeconds() });
    expect(answer.status).toBe(200);
    expect(answer.text).toBe('{"error_code":0}');
    // The stack registered its URL with the emulator through that probe.
    expect(stack.emulator.stats().callbacks.testRequests).toBeGreaterThanOrEqual(1);
  });

  it("refuses a wrong secret, sdkappid, sign or an expired sign in the vendor's shape, changing nothing", async () => {
    const roomId = 4009;
    stack.emulator.setFaults({ callbacks: { dropRate: 1 } });
    const task = await api.started({ room_id: roomId });
    expect(task.status).toBe('prepared');
    const expireTime = nowSeconds() + 300;
    const expiredAt = nowSeconds() - 60;
    const body = startedBody(task, expireTime);
    const refusals: [string, string, unknown, number, number][] = [
      ['wrong path secret', callbackUrl({ expireTime, secret: 'not-the-secret' }), body, 404, 20002],
      ['wrong sdkappid', callbackUrl({ expireTime, sdkappid: '1400000001' }), body, 403, 20000],
      ['no sdkappid', callbackUrl({ expireTime, sdkappid: '' }), body, 403, 20000],
      ['a bad sign', callbackUrl({ expireTime, sign: vendorSign('0'.repeat(32), expireTime) }), body, 401, 20002],
      ['a sign for another expire_time', callbackUrl({ expireTime: expireTime + 1 }), body, 401, 20002],
      ['an expired expire_time', callbackUrl({ expireTime: expiredAt }), { ...body, expire_time: expiredAt }, 401, 20001],
      ['a record_started without task_id', callbackUrl({ expireTime }), { ...body, task_id: undefined }, 400, 20003],
    ];
    for (const [name, url, payload, httpStatus, errorCode] of refusals) {
      const answer = await post(url, payload);
      expect(answer.status, name).toBe(httpStatus);
      expect(Object.keys(answer.body).sort(), name).toEqual(['error_code', 'error_msg']);
      expect(answer.body.error_code, name).toBe(errorCode);
      expect(answer.text, name).not.toContain(stack.functionEnv.CALLBACK_SECRET);
      expectNoStackTrace(answer.text);
    }
    const unchanged = await api.task(task.record_user_id);
    expect(unchanged.status).toBe('prepared');
    expect(unchanged.callbacks.record_started).toBeNull();
    expect(unchanged.updated_at).toBe(task.updated_at);
  });

  it('answers {"error_code":0} only once the change is stored', async () => {
    const roomId = 4010;
    stack.emulator.setFaults({ callbacks: { dropRate: 1 } });
    const task = await api.started({ room_id: roomId });
    const taskId = task.task_id as string;
    const expireTime = nowSeconds() + 300;

    const started = await post(callbackUrl({ expireTime }), startedBody(task, expireTime));
    expect(started.status).toBe(200);
    expect(started.text).toBe('{"error_code":0}');
    // Read at once, no waiting: the change is already there.
    const recording = await api.task(task.record_user_id);
    expect(recording.status).toBe('recording');
    expect(recording.callbacks.record_started?.count).toBe(1);
    expect(recording.timeline.at(-1)).toMatchObject({ status: 'recording', source: 'callback' });

    expect((await api.stop(taskId)).status).toBe(202);
    const video = {
      video_play_time: 0,
      video_size: 123_456,
      video_format: 'mp4',
      video_duration: 4_000,
      video_url: 'https://vod.example.invalid/whiteboard.mp4',
      video_id: '5285890781234567890',
      video_type: 2,
      user_id: '',
    };
    const finishedBody = {
      ...startedBody(task, expireTime),
      callback_type: 'record_finished',
      start_time: nowSeconds() - 4,
      stop_time: nowSeconds(),
      video_info: [video],
    };
    const finishedAnswer = await post(callbackUrl({ expireTime }), finishedBody);
    expect(finishedAnswer.text).toBe('{"error_code":0}');
    const finished = await api.task(taskId);
    expect(finished.status).toBe('finished');
    expect(finished.callbacks.record_finished?.count).toBe(1);
    expect(finished.videos).toHaveLength(1);
    expect(finished.videos[0]).toMatchObject({ kind: 'whiteboard', file_id: video.video_id, url: video.video_url, offset_ms: 0, duration_ms: 4_000 });

    // The same callback again: answered 0, counted, nothing else changes.
    const again = await post(callbackUrl({ expireTime }), finishedBody);
    expect(again.text).toBe('{"error_code":0}');
    const counted = await api.task(taskId);
    expect(counted.callbacks.record_finished?.count).toBe(2);
    expect(counted.timeline).toEqual(finished.timeline);
  });

  it('answers 0 for a task that is not ours, and creates nothing', async () => {
    const roomId = 4011;
    const expireTime = nowSeconds() + 300;
    const stranger = {
      task_id: 'zzzzzzzzzzzzzzzzzzzz',
      record_user_id: `tic_record_user_${roomId}_stranger`,
      room_id: roomId,
    } as unknown as ApiTask;
    const answer = await post(callbackUrl({ expireTime }), startedBody(stranger, expireTime));
    expect(answer.text).toBe('{"error_code":0}');
    expect((await api.list(roomId)).body.recordings).toEqual([]);
    expectApiError(await api.get(stranger.record_user_id), 404, 'not_found');
  });
});
