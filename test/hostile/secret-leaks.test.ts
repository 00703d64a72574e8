/**
 * No secret in any log line, answer or stored item, over a full run at LOG_LEVEL=DEBUG that
 * takes every path that logs: a recording from start to finished through callbacks, an
 * idempotent replay, refused tokens (401), forged and unreadable callbacks, an upstream
 * refusal (502) of start and of stop, a start that times out, a query that times out while
 * the reconciler covers a dropped callback, and a sweep.
 *
 * The secrets: the TicKey, the UserSig secret key, the API token, the callback path secret,
 * every UserSig the service generated and every `sign` that crossed the wire (both read off
 * the wire by a pass-through tap on fetch), and any md5(TicKey + t) for the times of the run.
 * Everything written to stdout, stderr or the console from before the stack starts is kept.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { useLocalAws } from '../support/local-aws';
import { md5Sign, scanTable, sendRaw, sleep, waitFor } from './support';

const ROOM = { lifecycle: 61_001, refusedStart: 61_002, refusedStop: 61_003, timedOut: 61_004, droppedCallback: 61_005 };
/** Margin around the run when listing every sign the TicKey could have made in it (signs live 300 s). */
const SIGN_TIME_MARGIN_SECONDS = 1_000;

let stack: LocalStack;
let apiToken: string;
let runStartSeconds: number;
const logChunks: string[] = [];
const answers: string[] = [];
/** What crossed the wire through fetch: the client's calls to the emulator and the emulator's callbacks to us. */
const wire: { url: string; body: string }[] = [];
const restorers: Array<() => void> = [];

function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Keeps a copy of everything written to stdout, stderr and the console, and passes it on. */
function captureOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write;
    stream.write = function write(this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]) {
      logChunks.push(text(chunk));
      return (original as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
    } as typeof stream.write;
    restorers.push(() => (stream.write = original));
  }
  for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
    const original = console[method];
    console[method] = (...args: unknown[]) => {
      logChunks.push(args.map(text).join(' '));
      original.apply(console, args);
    };
    restorers.push(() => (console[method] = original));
  }
}

/** A pass-through tap on fetch: it changes nothing, and records what was sent. */
function tapFetch(): void {
  const original = globalThis.fetch;
  globalThis.fetch = async (input: string | URL | Request, init?: RequestInit) => {
    const url = input instanceof Request ? input.url : String(input);
    wire.push({ url, body: typeof init?.body === 'string' ? init.body : '' });
    return original(input, init);
  };
  restorers.push(() => (globalThis.fetch = original));
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** A call to the platform API; every answer (headers included) is kept for the leak check. */
async function api(method: string, path: string, options: { body?: unknown; headers?: Record<string, string>; token?: string | null } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  const token = options.token === undefined ? apiToken : options.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${stack.apiUrl}${path}`, { method, headers, ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }) });
  const body = await response.text();
  answers.push(`${JSON.stringify([...response.headers])}\n${body}`);
  return { status: response.status, body: JSON.parse(body) as Record<string, unknown> };
}

async function statusOf(recordUserId: string): Promise<string> {
  return String((await api('GET', `/recordings/${recordUserId}`)).body.status);
}

async function callback(path: string, body: string): Promise<void> {
  const response = await sendRaw(stack.apiUrl, { method: 'POST', path, headers: [['content-type', 'application/json']], body });
  answers.push(`${JSON.stringify(response.headers)}\n${response.text}`);
  expect(response.status).toBeGreaterThanOrEqual(400);
}

beforeAll(async () => {
  captureOutput();
  tapFetch();
  runStartSeconds = Math.floor(Date.now() / 1000);
  apiToken = randomBytes(24).toString('hex');
  stack = await startLocalStack({
    mode: 'in-process',
    apiToken,
    aws: { ...useLocalAws(), nameSuffix: `hostile-leaks-${randomBytes(3).toString('hex')}` },
    emulator: { startDelayMs: 100, stopDelayMs: 100, processingDelayMs: 100, callbackRetryIntervalMs: 200, callbackMaxRetries: 3 },
    functionEnv: { LOG_LEVEL: 'DEBUG', START_CHECK_DELAY_SECONDS: '1', STOP_CHECK_DELAY_SECONDS: '1', TIC_TIMEOUT_MS: '500' },
    sweepIntervalMs: 600_000,
    log: (line) => logChunks.push(line),
  });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  for (const restore of restorers.reverse()) restore();
});

describe('secrets stay secret through a full run at DEBUG', () => {
  it('runs every logging path', async () => {
    // A recording from start to finished, through both callbacks.
    const started = await api('POST', '/recordings', { body: { room_id: ROOM.lifecycle }, headers: { 'idempotency-key': 'leak-test-1' } });
    expect(started.status).toBe(202);
    const lifecycleId = String(started.body.record_user_id);
    const replay = await api('POST', '/recordings', { body: { room_id: ROOM.lifecycle }, headers: { 'idempotency-key': 'leak-test-1' } });
    expect([replay.status, replay.body.record_user_id]).toEqual([202, lifecycleId]);
    stack.emulator.join(ROOM.lifecycle, 'teacher', { camera: true });
    await waitFor('recording', async () => ((await statusOf(lifecycleId)) === 'recording' ? true : undefined));
    expect((await api('POST', `/recordings/${lifecycleId}/stop`)).status).toBe(202);
    await waitFor('finished', async () => ((await statusOf(lifecycleId)) === 'finished' ? true : undefined));

    // 401s: near misses of the real token, and the token where it does not belong.
    for (const token of [`${apiToken}x`, apiToken.slice(1), apiToken.toUpperCase(), 'nonsense']) {
      expect((await api('GET', `/recordings/${lifecycleId}`, { token })).status).toBe(401);
    }
    expect((await api('GET', `/recordings/${lifecycleId}`, { token: null, headers: { authorization: `Basic ${Buffer.from(`local:${apiToken}`).toString('base64')}` } })).status).toBe(401);

    // Forged and unreadable callbacks: wrong sign, expired sign, wrong path secret, a body no repair can read.
    const ticKey = stack.functionEnv.TIC_KEY ?? '';
    const secret = stack.functionEnv.CALLBACK_SECRET ?? '';
    const sdkappid = stack.emulator.options.sdkappid;
    const now = Math.floor(Date.now() / 1000);
    const forged = JSON.stringify({ expire_time: now + 60, timestamp: now, error_code: 0, error_msg: '', task_id: 'x', callback_type: 'record_started', record_user_id: lifecycleId, room_id: ROOM.lifecycle, group_id: String(ROOM.lifecycle) });
    await callback(`/tic/callback/${secret}?sdkappid=${sdkappid}&sign=${md5Sign(`${ticKey}x`, now + 60)}&random=1`, forged);
    await callback(`/tic/callback/${secret}?sdkappid=${sdkappid}&sign=${md5Sign(ticKey, now - 10)}&random=2`, forged.replace(String(now + 60), String(now - 10)));
    await callback(`/tic/callback/${secret.slice(0, -1)}?sdkappid=${sdkappid}&sign=${md5Sign(ticKey, now + 60)}&random=3`, forged);
    await callback(`/tic/callback/${secret}?sdkappid=${sdkappid}&sign=${md5Sign(ticKey, now + 60)}&random=4`, '{"callback_type":"record_finished","video_info":[{]]]');

    // 502: the vendor refuses a start, then (every try) a stop.
    stack.emulator.setFaults({ start: { errorNext: 1 } });
    expect((await api('POST', '/recordings', { body: { room_id: ROOM.refusedStart } })).status).toBe(502);
    const toStop = String((await api('POST', '/recordings', { body: { room_id: ROOM.refusedStop } })).body.record_user_id);
    stack.emulator.setFaults({ stop: { errorNext: 10 } });
    const refusedStop = await api('POST', `/recordings/${toStop}/stop`);
    expect([refusedStop.status, (refusedStop.body.error as { code: string }).code]).toEqual([502, 'upstream_refused']);
    stack.emulator.clearFaults();

    // A start that is never answered: the client gives up after TIC_TIMEOUT_MS and the task stays starting.
    stack.emulator.setFaults({ start: { hangNext: 1 } });
    const unanswered = await api('POST', '/recordings', { body: { room_id: ROOM.timedOut } });
    expect([unanswered.status, unanswered.body.status]).toEqual([202, 'starting']);
    stack.emulator.clearFaults();

    // A dropped record_started: the reconciler queries, and its first query times out.
    stack.emulator.setFaults({ callbacks: { dropNext: 1 }, query: { hangNext: 1 } });
    const dropped = String((await api('POST', '/recordings', { body: { room_id: ROOM.droppedCallback } })).body.record_user_id);
    stack.emulator.join(ROOM.droppedCallback, 'teacher', { camera: true });
    await waitFor('the reconciler to see recording', async () => ((await statusOf(dropped)) === 'recording' ? true : undefined), 20_000, 200);
    expect(stack.emulator.stats().faults.hangs.query).toBe(1);
    stack.emulator.clearFaults();

    await stack.sweepNow();
    // Let the last check messages and callbacks land before reading what was written.
    await sleep(1_500);

    const output = logChunks.join('\n');
    // The capture saw the paths it had to see.
    expect(output).toMatch(/"level":"DEBUG"|"level":"INFO"/);
    expect(output).toContain('request refused');
    expect(output).toContain('callback refused');
    expect(output).toContain('callback unreadable, kept for inspection');
    expect(output).toContain('request failed');
    expect(output).toContain('"status":502');
    expect(output).toMatch(/"message":"tic call failed"[^\n]*"tic_operation":"query"/);
    expect(output).toMatch(/"message":"tic call failed"[^\n]*"tic_operation":"stop"/);
    expect(output).toContain('start unanswered; task kept as starting');
  }, 60_000);

  /** Every secret value of the run, named, with the UserSigs and signs read off the wire. */
  function secretsOfTheRun(): Map<string, string> {
    const env = stack.functionEnv;
    const secrets = new Map<string, string>([
      ['TicKey', env.TIC_KEY ?? ''],
      ['UserSig secret key', env.USERSIG_SECRET_KEY ?? ''],
      ['API token', apiToken],
      ['API_TOKENS', env.API_TOKENS ?? ''],
      ['callback path secret', env.CALLBACK_SECRET ?? ''],
      ['callback path secret (URL-encoded)', encodeURIComponent(env.CALLBACK_SECRET ?? '')],
    ]);
    for (const { url, body } of wire) {
      const sign = new URL(url).searchParams.get('sign');
      if (sign) secrets.set(`sign sent to ${new URL(url).pathname.replace(env.CALLBACK_SECRET ?? '\u0000', '***')}`, sign);
      if (url.includes('/record/v1/online/start') && body) {
        const userSig = (JSON.parse(body) as { user_sig?: string }).user_sig;
        if (userSig) secrets.set(`UserSig of ${(JSON.parse(body) as { user_id: string }).user_id}`, userSig);
      }
    }
    return secrets;
  }

  it('saw the secrets it looks for on the wire (so that their absence below means something)', () => {
    const secrets = secretsOfTheRun();
    expect([...secrets.keys()].filter((name) => name.startsWith('UserSig of')).length).toBeGreaterThanOrEqual(4);
    expect([...secrets.keys()].filter((name) => name.startsWith('sign sent to /record/v1/online/')).length).toBeGreaterThan(0);
    expect([...secrets.keys()].filter((name) => name.startsWith('sign sent to /tic/callback/')).length).toBeGreaterThan(0);
    for (const [name, value] of secrets) expect(value.length, name).toBeGreaterThanOrEqual(16);
  });

  it('wrote no secret, no UserSig and no sign in any log line', () => {
    const output = logChunks.join('\n');
    expect(output.length).toBeGreaterThan(1_000);
    for (const [name, value] of secretsOfTheRun()) expect(output.includes(value), `${name} is in the logs`).toBe(false);
    // No sign in any form: no `sign=` with a digest, and no 32-hex string the TicKey made for any second of the run.
    expect(output).not.toMatch(/sign=[0-9a-fA-F]{32}/);
    const ticKey = stack.functionEnv.TIC_KEY ?? '';
    const nowSeconds = Math.floor(Date.now() / 1000);
    const signsOfTheRun = new Set<string>();
    for (let t = runStartSeconds - SIGN_TIME_MARGIN_SECONDS; t <= nowSeconds + SIGN_TIME_MARGIN_SECONDS; t += 1) signsOfTheRun.add(md5Sign(ticKey, t));
    const hexInLogs = output.match(/[0-9a-fA-F]{32}/g) ?? [];
    expect(hexInLogs.filter((hex) => signsOfTheRun.has(hex.toLowerCase()))).toEqual([]);
    // The redaction net (lib/logger.ts) never had to catch anything: no code path even tried.
    expect(output).not.toContain('[redacted]');
  });

  it('the redaction net of lib/logger.ts masks each secret on its own, wherever it sits in a line', async () => {
    // The net is for accidents: a future log line that quotes a header, a URL or an error.
    const { logger } = await import('../../lib/logger');
    const env = stack.functionEnv;
    const from = logChunks.length;
    logger.error('accident', {
      authorization: `Bearer ${apiToken}`,
      url: `${stack.apiUrl}/tic/callback/${env.CALLBACK_SECRET}?sdkappid=1`,
      nested: { key: `TicKey=${env.TIC_KEY};`, userSigKey: [`k:${env.USERSIG_SECRET_KEY}`] },
    });
    logger.warn(`inline ${apiToken} ${env.TIC_KEY} ${env.CALLBACK_SECRET} ${env.USERSIG_SECRET_KEY}`);
    const written = logChunks.slice(from).join('\n');
    expect(written).toContain('accident');
    expect(written).toContain('[redacted]');
    for (const [name, value] of [
      ['API token', apiToken],
      ['TicKey', env.TIC_KEY ?? ''],
      ['callback path secret', env.CALLBACK_SECRET ?? ''],
      ['UserSig secret key', env.USERSIG_SECRET_KEY ?? ''],
    ] as const) {
      expect(written.includes(value), `${name} got past the redaction net`).toBe(false);
    }
  });

  it('answered no secret, no UserSig and no sign', () => {
    expect(answers.length).toBeGreaterThan(10);
    const all = answers.join('\n');
    for (const [name, value] of secretsOfTheRun()) expect(all.includes(value), `${name} is in an answer`).toBe(false);
  });

  it('stored no secret, no UserSig and no sign in DynamoDB', async () => {
    const items = await scanTable(stack);
    expect(items.length).toBeGreaterThanOrEqual(5);
    const stored = JSON.stringify(items);
    // The raw callback bodies are stored (CONTRACT.md item 4): the check covers them too.
    expect(stored).toContain('raw');
    for (const [name, value] of secretsOfTheRun()) expect(stored.includes(value), `${name} is stored`).toBe(false);
    expect(stored).not.toMatch(/sign=[0-9a-fA-F]{32}/);
  });
});
