/**
 * The client against a real HTTP peer: a tiny node:http server on port 0 that answers
 * each request from a script. The conformance suite proves the same client against the
 * emulator; these tests pin the error mapping and the retry policy over a real socket.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTicClient, type TicCallEvent, type TicClientOptions } from '../../lib/tic/client';
import { TicError } from '../../lib/tic/errors';
import { signFor } from '../../lib/tic/sign';

const TIC_KEY = '9016607A382749C69D4F4B00C61DD083';
const SDKAPPID = 1400127115;

interface Received {
  method: string;
  path: string;
  query: URLSearchParams;
  contentType: string | undefined;
  body: Record<string, unknown>;
}

type Reply = (res: ServerResponse) => void;

const json =
  (payload: unknown, status = 200): Reply =>
  (res) => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(payload));
  };
const text =
  (payload: string, status: number): Reply =>
  (res) => {
    res.writeHead(status, { 'Content-Type': 'text/html' });
    res.end(payload);
  };
/** Never answers; the client's timeout must end the attempt. */
const hang: Reply = () => {};
const ok = json({ error_code: 0, error_msg: 'ok' });
const code = (errorCode: number, errorMsg = 'failed'): Reply => json({ error_code: errorCode, error_msg: errorMsg });

const QUERY_ANSWER = {
  error_code: 0,
  error_msg: '',
  task_id: 'g68cee8e90jcq4ogg8jb',
  status: 'finished',
  room_id: 1000135,
  group_id: '1000135',
  record_user_id: 'tic_record_user_1000135_01',
  start_time: 1557891712,
  stop_time: 1557891712,
  video_info: [
    {
      user_id: 'jepson',
      video_duration: 22504,
      video_format: 'mp4',
      video_id: '52858907621654352000418',
      video_play_time: 25915,
      video_size: 1431138,
      video_type: 0,
      video_url: 'http://1257307760.vod2.myqcloud.com/f0.mp4',
    },
  ],
};

let server: Server;
let baseUrl: string;
let script: Reply[] = [];
let received: Received[] = [];

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      received.push({
        method: req.method ?? '',
        path: url.pathname,
        query: url.searchParams,
        contentType: req.headers['content-type'],
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
      });
      const reply = script.shift() ?? code(99999, 'script exhausted');
      reply(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  script = [];
  received = [];
});

function client(overrides: Partial<TicClientOptions> = {}, events: TicCallEvent[] = []) {
  return createTicClient({
    baseUrl,
    sdkappid: SDKAPPID,
    credentials: { mode: 'key', ticKey: TIC_KEY },
    timeoutMs: 1000,
    retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
    onCall: (event) => events.push(event),
    ...overrides,
  });
}

async function failure(promise: Promise<unknown>): Promise<TicError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(TicError);
  return error as TicError;
}

function expectNoSecret(text: string, signs: string[]): void {
  expect(text).not.toContain(TIC_KEY);
  for (const sign of signs) expect(text).not.toContain(sign);
}

describe('TicClient requests', () => {
  it('starts a recording: POST to the start path, signed query, the vendor body field names', async () => {
    script = [json({ error_code: 0, error_msg: 'ok', task_id: 'g68cee8e90jcq4ogg8jb' })];
    const result = await client({ nowMs: () => 1557202445_000 }).start({
      roomId: 1234,
      groupId: 'g-1234',
      userId: 'tic_record_user_1234_01',
      userSig: 'valid usersig',
      whiteboard: { width: 1280, height: 960 },
    });
    expect(result.taskId).toBe('g68cee8e90jcq4ogg8jb');
    const request = received[0];
    expect(request).toBeDefined();
    if (request === undefined) return;
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/record/v1/online/start');
    expect(request.contentType).toBe('application/json');
    expect(request.query.get('sdkappid')).toBe(String(SDKAPPID));
    expect(request.query.get('random')).toBe(String(result.random));
    expect(request.body).toEqual({
      expire_time: 1557202745,
      room_id: 1234,
      group_id: 'g-1234',
      user_id: 'tic_record_user_1234_01',
      user_sig: 'valid usersig',
      whiteboard: { width: 1280, height: 960 },
    });
    expect(request.query.get('sign')).toBe(signFor(TIC_KEY, 1557202745));
  });

  it('leaves group_id and whiteboard out when not given, and drops undefined whiteboard fields', async () => {
    script = [
      json({ error_code: 0, error_msg: 'ok', task_id: 't1' }),
      json({ error_code: 0, error_msg: 'ok', task_id: 't2' }),
    ];
    const tic = client();
    await tic.start({ roomId: 1, userId: 'tic_record_user_1_a', userSig: 's' });
    await tic.start({ roomId: 1, userId: 'tic_record_user_1_b', userSig: 's', whiteboard: { width: 640 } });
    expect(Object.keys(received[0]?.body ?? {}).sort()).toEqual(['expire_time', 'room_id', 'user_id', 'user_sig']);
    expect(received[1]?.body.whiteboard).toEqual({ width: 640 });
  });

  it('stops, queries and sets the callback at their paths with their bodies', async () => {
    script = [ok, json(QUERY_ANSWER), ok];
    const tic = client({ nowMs: () => 1_000_000_000 });
    await tic.stop('task-1');
    const { answer } = await tic.query('task-1');
    await tic.setCallback('https://example.test/cb/secret-token');
    expect(received.map((r) => r.path)).toEqual([
      '/record/v1/online/stop',
      '/record/v1/online/query',
      '/record/v1/online/callback',
    ]);
    expect(received[0]?.body).toEqual({ expire_time: 1_000_300, task_id: 'task-1' });
    expect(received[1]?.body).toEqual({ expire_time: 1_000_300, task_id: 'task-1' });
    expect(received[2]?.body).toEqual({ expire_time: 1_000_300, callback: 'https://example.test/cb/secret-token' });
    expect(answer).toEqual(QUERY_ANSWER);
  });

  it('sends the trial sign and expire_time as given', async () => {
    script = [ok];
    await client({ credentials: { mode: 'trial', sign: 'd33bfea49d7f2795a4829c0d80047a7d', expireTime: 1557202745 } }).stop(
      't',
    );
    expect(received[0]?.query.get('sign')).toBe('d33bfea49d7f2795a4829c0d80047a7d');
    expect(received[0]?.body.expire_time).toBe(1557202745);
  });

  it('reads a query answer before recording starts, without times or videos', async () => {
    const { start_time: _s, stop_time: _t, video_info: _v, ...prepared } = { ...QUERY_ANSWER, status: 'prepared' };
    script = [json(prepared)];
    const { answer } = await client().query('t');
    expect(answer).toMatchObject({ status: 'prepared', start_time: 0, stop_time: 0, video_info: [] });
  });

  it('refuses a roomId that is not an integer before sending', async () => {
    await expect(client().start({ roomId: 1.5, userId: 'u', userSig: 's' })).rejects.toThrow(TypeError);
    expect(received).toHaveLength(0);
  });
});

describe('TicClient retries', () => {
  it('retries a query after 20099 twice, with a new random each attempt', async () => {
    const events: TicCallEvent[] = [];
    script = [code(20099), code(20099), json(QUERY_ANSWER)];
    const result = await client({}, events).query('t');
    const randoms = received.map((r) => Number(r.query.get('random')));
    expect(randoms).toHaveLength(3);
    expect(new Set(randoms).size).toBe(3);
    expect(result.random).toBe(randoms[2]);
    expect(events.map((e) => [e.attempt, e.outcome, e.code])).toEqual([
      [1, 'error', 20099],
      [2, 'error', 20099],
      [3, 'ok', 0],
    ]);
    expect(events.map((e) => e.random)).toEqual(randoms);
  });

  it('gives up after maxAttempts with the last error, retryable', async () => {
    script = [code(20005), code(20005), code(20005), ok];
    const error = await failure(client().stop('t'));
    expect(received).toHaveLength(3);
    expect(error).toMatchObject({ kind: 'upstream', code: 20005, operation: 'stop', retryable: true });
    expect(error.random).toBe(Number(received[2]?.query.get('random')));
  });

  it('never repeats a start after 20099: one attempt, not retryable', async () => {
    script = [code(20099), json({ error_code: 0, error_msg: 'ok', task_id: 'second-recorder' })];
    const error = await failure(client().start({ roomId: 1, userId: 'tic_record_user_1_a', userSig: 's' }));
    expect(received).toHaveLength(1);
    expect(error).toMatchObject({ kind: 'upstream', code: 20099, operation: 'start', retryable: false });
  });

  it('re-signs a start once after 20001 with a later expire_time', async () => {
    let nowMs = 1_600_000_000_000;
    script = [code(20001, 'sign expired'), json({ error_code: 0, error_msg: 'ok', task_id: 'task-after-resign' })];
    const tic = client({
      nowMs: () => {
        nowMs += 10_000;
        return nowMs;
      },
    });
    const result = await tic.start({ roomId: 1, userId: 'tic_record_user_1_a', userSig: 's' });
    expect(result.taskId).toBe('task-after-resign');
    expect(received).toHaveLength(2);
    const [first, second] = received.map((r) => r.body.expire_time as number);
    expect(second).toBeGreaterThan(first ?? Infinity);
    expect(received[1]?.query.get('sign')).toBe(signFor(TIC_KEY, second ?? 0));
  });

  it('re-signs only once: a second 20001 fails', async () => {
    script = [code(20001), code(20001), ok];
    const error = await failure(client().query('t'));
    expect(received).toHaveLength(2);
    expect(error).toMatchObject({ kind: 'upstream', code: 20001 });
  });

  it('does not re-sign in trial mode: 20001 is final and not retryable', async () => {
    script = [code(20001), ok];
    const error = await failure(
      client({ credentials: { mode: 'trial', sign: 'd33bfea49d7f2795a4829c0d80047a7d', expireTime: 1 } }).query('t'),
    );
    expect(received).toHaveLength(1);
    expect(error).toMatchObject({ code: 20001, retryable: false });
  });

  it.each([
    [20000, 'query'],
    [20002, 'stop'],
    [20003, 'query'],
    [20004, 'callback'],
    [20011, 'stop'],
  ] as const)('does not retry %d on %s', async (errorCode, operation) => {
    script = [code(errorCode), ok];
    const tic = client();
    const call =
      operation === 'query' ? tic.query('t') : operation === 'stop' ? tic.stop('t') : tic.setCallback('https://x.test');
    const error = await failure(call);
    expect(received).toHaveLength(1);
    expect(error).toMatchObject({ kind: 'upstream', code: errorCode, operation, retryable: false });
  });

  it('times out a hanging attempt and retries a stop, then gives up with kind timeout', async () => {
    const events: TicCallEvent[] = [];
    script = [hang, hang];
    const error = await failure(client({ timeoutMs: 150, retry: { maxAttempts: 2, baseDelayMs: 1 } }, events).stop('t'));
    expect(received).toHaveLength(2);
    expect(error).toMatchObject({ kind: 'timeout', code: undefined, operation: 'stop', retryable: true });
    expect(events.map((e) => e.outcome)).toEqual(['error', 'error']);
  });

  it('does not retry a start that timed out: the recorder may exist', async () => {
    script = [hang, json({ error_code: 0, error_msg: 'ok', task_id: 'second-recorder' })];
    const error = await failure(
      client({ timeoutMs: 150 }).start({ roomId: 1, userId: 'tic_record_user_1_a', userSig: 's' }),
    );
    expect(received).toHaveLength(1);
    expect(error).toMatchObject({ kind: 'timeout', retryable: false });
  });
});

describe('TicClient answers it cannot use', () => {
  it('maps an HTML error page to bad_response and retries a query', async () => {
    script = [text('<html>502 Bad Gateway</html>', 502), json(QUERY_ANSWER)];
    const { answer } = await client().query('t');
    expect(answer.task_id).toBe(QUERY_ANSWER.task_id);
    expect(received).toHaveLength(2);
  });

  it.each([
    ['a non-JSON body', text('not json', 200), /answer is not JSON/],
    ['no error_code', json({ error_msg: 'ok' }), /error_code/],
    ['a string error_code', json({ error_code: '0' }), /error_code/],
    ['an unknown status', json({ ...QUERY_ANSWER, status: 'paused' }), /status/],
    ['a string room_id', json({ ...QUERY_ANSWER, room_id: '1000135' }), /room_id/],
  ])('maps %s to bad_response', async (_label, reply, message) => {
    script = [reply];
    const error = await failure(client({ retry: { maxAttempts: 1 } }).query('t'));
    expect(error.kind).toBe('bad_response');
    expect(error.upstreamMessage).toMatch(message);
    expect(error.retryable).toBe(true);
  });

  it('maps a start answer without task_id to bad_response, not retried', async () => {
    script = [ok, ok];
    const error = await failure(client().start({ roomId: 1, userId: 'tic_record_user_1_a', userSig: 's' }));
    expect(received).toHaveLength(1);
    expect(error).toMatchObject({ kind: 'bad_response', retryable: false });
  });

  it('maps a refused connection to kind network', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await failure(client({ baseUrl: `http://127.0.0.1:${port}` }).query('t'));
    expect(error).toMatchObject({ kind: 'network', operation: 'query', retryable: true });
    expect(error.upstreamMessage).toMatch(/^connection failed/);
  });
});

describe('TicClient secrecy', () => {
  it('never puts the sign or the key in errors or events, even when upstream echoes them', async () => {
    const events: TicCallEvent[] = [];
    let echoed = '';
    // A peer that quotes the request URL (with its sign) back in error_msg.
    script = [
      (res) => {
        const request = received[received.length - 1];
        echoed = request?.query.get('sign') ?? '';
        json({ error_code: 20002, error_msg: `bad sign ${echoed} for key ${TIC_KEY}` })(res);
      },
    ];
    const error = await failure(client({}, events).stop('t'));
    expect(echoed).toMatch(/^[0-9a-f]{32}$/);
    expect(error.upstreamMessage).toContain('[redacted]');
    expectNoSecret(`${error.message} ${error.upstreamMessage} ${error.stack ?? ''}`, [echoed]);
    expectNoSecret(JSON.stringify(events), [echoed]);
  });

  it('keeps the sign out of timeout and network errors', async () => {
    script = [hang];
    const timeout = await failure(
      client({ timeoutMs: 100 }).start({ roomId: 1, userId: 'tic_record_user_1_a', userSig: 's' }),
    );
    const sign = received[0]?.query.get('sign') ?? '';
    expect(sign).toMatch(/^[0-9a-f]{32}$/);
    expectNoSecret(`${timeout.message} ${timeout.stack ?? ''}`, [sign]);
    expect(timeout.message).not.toContain(baseUrl);
  });

  it('ignores an onCall hook that throws', async () => {
    script = [ok];
    const tic = client({
      onCall: () => {
        throw new Error('metrics down');
      },
    });
    await expect(tic.stop('t')).resolves.toMatchObject({ random: expect.any(Number) });
    expect(received).toHaveLength(1);
  });
});
