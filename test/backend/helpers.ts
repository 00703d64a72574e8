/**
 * What the backend integration tests share: a small client of the platform API over real
 * HTTP, polling for a condition, the check queue's emptiness, and the vendor's callback sign.
 * Everything goes through HTTP (the API, the callback route) or the emulator's control
 * methods; nothing here reaches into the handlers.
 */
import { createHash } from 'node:crypto';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { expect } from 'vitest';
import type { LocalStack } from '../../local/stack';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/aws-services';
import type { ApiTask } from '../../lib/recording/presenter';

export type { ApiTask } from '../../lib/recording/presenter';

/** Timings scaled down for every backend test file (emulator delays ~100 ms, reconciler 1 s). */
export const FAST_EMULATOR = {
  startDelayMs: 100,
  stopDelayMs: 100,
  processingDelayMs: 100,
  callbackRetryIntervalMs: 200,
  callbackMaxRetries: 3,
} as const;

export const FAST_FUNCTION_ENV = {
  START_CHECK_DELAY_SECONDS: '1',
  STOP_CHECK_DELAY_SECONDS: '1',
  TIC_TIMEOUT_MS: '1000',
  LOG_LEVEL: 'ERROR',
} as const;

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  /** The body as text, to check that it never carries a stack trace. */
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  body: T;
}

export interface ApiErrorBody {
  error: {
    code: string;
    message: string;
    field?: string;
    upstream?: { operation: string; error_code: number | null; error_msg: string; random: number };
  };
}

export interface ApiPage {
  recordings: ApiTask[];
  next_cursor: string | null;
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The platform API of one stack, authenticated with its token unless told otherwise. */
export class ApiClient {
  constructor(private readonly stack: LocalStack) {}

  get authHeaders(): Record<string, string> {
    return { authorization: `Bearer ${this.stack.apiToken}` };
  }

  /** Any request; `headers` replace the default ones entirely when given. */
  async request<T = unknown>(
    method: string,
    path: string,
    options: { headers?: Record<string, string>; body?: string } = {},
  ): Promise<ApiResponse<T>> {
    const response = await fetch(`${this.stack.apiUrl}${path}`, {
      method,
      headers: options.headers ?? this.authHeaders,
      ...(options.body === undefined ? {} : { body: options.body }),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, body: parse(text) as T };
  }

  /** `POST /recordings` with a JSON body. */
  start(body: unknown, headers: Record<string, string> = {}): Promise<ApiResponse<ApiTask & ApiErrorBody>> {
    return this.request('POST', '/recordings', {
      headers: { ...this.authHeaders, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  }

  /** `POST /recordings` that must be accepted; returns the task. */
  async started(body: unknown, headers: Record<string, string> = {}): Promise<ApiTask> {
    const response = await this.start(body, headers);
    expect(response.status, response.text).toBe(202);
    return response.body;
  }

  stop(id: string): Promise<ApiResponse<ApiTask & ApiErrorBody>> {
    return this.request('POST', `/recordings/${encodeURIComponent(id)}/stop`);
  }

  get(id: string): Promise<ApiResponse<ApiTask & ApiErrorBody>> {
    return this.request('GET', `/recordings/${encodeURIComponent(id)}`);
  }

  /** `GET /recordings/{id}` that must succeed. */
  async task(id: string): Promise<ApiTask> {
    const response = await this.get(id);
    expect(response.status, response.text).toBe(200);
    return response.body;
  }

  list(roomId: number | string, query: Record<string, string> = {}): Promise<ApiResponse<ApiPage & ApiErrorBody>> {
    const search = new URLSearchParams(query).toString();
    return this.request('GET', `/rooms/${roomId}/recordings${search ? `?${search}` : ''}`);
  }

  /** Polls `GET /recordings/{id}` until `done` holds. */
  waitForTask(id: string, done: (task: ApiTask) => boolean, what: string, timeoutMs = 20_000): Promise<ApiTask> {
    return waitFor(() => this.task(id), done, what, timeoutMs);
  }

  waitForStatus(id: string, status: ApiTask['status'], timeoutMs = 20_000): Promise<ApiTask> {
    return this.waitForTask(id, (task) => task.status === status, `task ${id} ${status}`, timeoutMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Reads until `done` holds, every `intervalMs`; fails naming `what` and showing the last
 * value when `timeoutMs` passes. Limits are generous: the machine is shared.
 */
export async function waitFor<T>(read: () => Promise<T> | T, done: (value: T) => boolean, what: string, timeoutMs = 20_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await read();
  while (!done(last)) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)?.slice(0, 2000)}`);
    }
    await sleep(intervalMs);
    last = await read();
  }
  return last;
}

/** Messages of the check queue, visible, in flight and delayed. */
export async function queueDepth(stack: LocalStack, sqs: SQSClient): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: stack.resources.checkQueueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0)
  );
}

/** Waits until every check message sent so far has been handled and deleted. */
export async function waitForQueueDrained(stack: LocalStack, sqs: SQSClient, timeoutMs = 20_000): Promise<void> {
  await waitFor(() => queueDepth(stack, sqs), (depth) => depth === 0, 'the check queue to drain', timeoutMs, 200);
}

/** An SQS client on the stack's fauxqs. */
export function sqsClientFor(stack: LocalStack): SQSClient {
  return new SQSClient({ endpoint: stack.sqsEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
}

/** The vendor's sign: md5(TicKey + expire_time), lower-case hex (CONTRACT.md "Signing"). */
export function vendorSign(ticKey: string, expireTime: number): string {
  return createHash('md5').update(`${ticKey}${expireTime}`).digest('hex');
}

/** A response body must never carry a stack frame or an exception's text. */
export function expectNoStackTrace(text: string): void {
  expect(text).not.toMatch(/\bat \S+ \(|\bat (async )?\S+:\d+:\d+|\n\s+at /);
  expect(text).not.toMatch(/\b[A-Z]\w*Error:/);
  expect(text).not.toContain('node_modules');
}
