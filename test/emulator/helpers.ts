/**
 * Raw-HTTP helpers for the emulator's tests: signed vendor requests made by hand (no
 * lib/tic code, so these tests check the emulator on its own), a callback receiver on a
 * free port, and polling.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RunningEmulator } from '../../emulator/index';

export const TIC_KEY = '0123456789ABCDEF0123456789ABCDEF';
export const SDKAPPID = 1400000001;

export const md5Hex = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');
export const nowSeconds = () => Math.floor(Date.now() / 1000);

export interface VendorCall {
  path: 'start' | 'stop' | 'query' | 'callback';
  body?: Record<string, unknown>;
  /** Defaults: a fresh expire_time (now + 120 s) in the body, its sign, random 526919, the configured sdkappid. */
  expireTime?: number | null;
  sign?: string | null;
  sdkappid?: string | null;
  random?: string | null;
  ticKey?: string;
  contentType?: string | null;
  method?: string;
  rawBody?: string;
  signal?: AbortSignal;
}

/** POSTs to `/record/v1/online/{path}` and returns HTTP status and parsed JSON. */
export async function callVendor(emulator: RunningEmulator, call: VendorCall): Promise<{ status: number; json: Record<string, unknown> }> {
  const expireTime = call.expireTime === undefined ? nowSeconds() + 120 : call.expireTime;
  const query = new URLSearchParams();
  const sdkappid = call.sdkappid === undefined ? String(emulator.options.sdkappid) : call.sdkappid;
  const random = call.random === undefined ? '526919' : call.random;
  const sign = call.sign === undefined ? md5Hex(`${call.ticKey ?? TIC_KEY}${expireTime}`) : call.sign;
  if (sdkappid !== null) query.set('sdkappid', sdkappid);
  if (random !== null) query.set('random', random);
  if (sign !== null) query.set('sign', sign);
  const body = call.rawBody ?? JSON.stringify({ ...(expireTime === null ? {} : { expire_time: expireTime }), ...call.body });
  const contentType = call.contentType === undefined ? 'application/json' : call.contentType;
  const response = await fetch(`${emulator.url}/record/v1/online/${call.path}?${query}`, {
    method: call.method ?? 'POST',
    headers: contentType === null ? {} : { 'content-type': contentType },
    body: call.method === 'GET' ? undefined : body,
    signal: call.signal ?? null,
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** A valid start body for `roomId` and recorder suffix. */
export function startBody(roomId: number, suffix = '01', extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { room_id: roomId, user_id: `tic_record_user_${roomId}_${suffix}`, user_sig: 'valid usersig', ...extra };
}

export async function startTask(emulator: RunningEmulator, roomId: number, suffix = '01'): Promise<string> {
  const { json } = await callVendor(emulator, { path: 'start', body: startBody(roomId, suffix) });
  if (json['error_code'] !== 0) throw new Error(`start failed: ${JSON.stringify(json)}`);
  return json['task_id'] as string;
}

export async function control(emulator: RunningEmulator, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(`${emulator.url}/_emulator${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

/** Polls `check` until it returns a value other than undefined/false. */
export async function waitFor<T>(check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(10);
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface ReceivedCallback {
  path: string;
  query: URLSearchParams;
  body: Record<string, unknown>;
  receivedAtMs: number;
}

/** What the receiver answers to the n-th request (0-based). */
export type ReceiverPolicy = (request: ReceivedCallback, index: number) => { status: number; body: string } | 'hang';

export const ANSWER_OK = { status: 200, body: '{"error_code":0}' };

/** A callback receiver on a free port that records every request. */
export class CallbackReceiver {
  readonly received: ReceivedCallback[] = [];
  policy: ReceiverPolicy = () => ANSWER_OK;
  private server: Server | undefined;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** Callbacks proper (the test request of `callback` has no callback_type). */
  callbacks(type?: string): ReceivedCallback[] {
    return this.received.filter((request) => request.body['callback_type'] !== undefined && (type === undefined || request.body['callback_type'] === type));
  }

  async close(): Promise<void> {
    if (!this.server) return;
    const closed = new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: import('node:http').ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://receiver.invalid');
    const request: ReceivedCallback = {
      path: url.pathname,
      query: url.searchParams,
      body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
      receivedAtMs: Date.now(),
    };
    const index = this.received.length;
    this.received.push(request);
    const answer = this.policy(request, index);
    if (answer === 'hang') return;
    res.writeHead(answer.status, { 'content-type': 'application/json' });
    res.end(answer.body);
  }
}

/** Settings that make a test's lifecycle take tens of milliseconds. */
export const FAST = {
  sdkappid: SDKAPPID,
  ticKey: TIC_KEY,
  startDelayMs: 50,
  stopDelayMs: 50,
  processingDelayMs: 50,
  callbackRetryIntervalMs: 100,
  callbackMaxRetries: 3,
  callbackTimeoutMs: 1_000,
} as const;
