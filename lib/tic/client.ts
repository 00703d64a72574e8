/**
 * The TIC recording API over HTTP: the adapter behind the `TicApi` port.
 *
 * Every request is `POST {baseUrl}{path}?sdkappid=&sign=&random=` with a JSON body that
 * carries `expire_time`; every answer is validated before it is trusted. The client never
 * logs: it reports each HTTP attempt through `onCall`, which never sees the sign or the key.
 * The request URL contains the sign, so no URL ever goes into an error or an event.
 */
import type { CallReceipt, QueryResult, StartRecordingInput, StartRecordingResult, TicApi } from './api';
import { TicError, TicErrorCode, type TicOperation } from './errors';
import { newRandom } from './random';
import {
  DEFAULT_BASE_DELAY_MS,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_MAX_DELAY_MS,
  backoffDelayMs,
  isRetryableFailure,
  shouldRetry,
  type RetryPolicy,
} from './retry';
import { answerEnvelopeSchema, describeSchemaError, queryAnswerSchema, startAnswerSchema, type Schema } from './schemas';
import { signRequest, type TicCredentials } from './sign';
import { TIC_PATHS, type QueryAnswer, type SetCallbackRequestBody, type StartRequestBody, type TaskRequestBody } from './wire';

/** Per-attempt HTTP timeout when the options do not say. */
export const DEFAULT_TIMEOUT_MS = 5000;

/** One HTTP attempt, as reported to `onCall`. */
export interface TicCallEvent {
  operation: TicOperation;
  /** The `random` of this attempt: what support asks for. */
  random: number;
  /** 1 for the first attempt. */
  attempt: number;
  outcome: 'ok' | 'error';
  /** The upstream `error_code` when one was answered. */
  code?: number;
  durationMs: number;
}

export interface TicClientOptions {
  /** e.g. `https://iclass.api.qcloud.com` or `http://127.0.0.1:4100`. */
  baseUrl: string;
  sdkappid: number | string;
  credentials: TicCredentials;
  /** Per HTTP attempt; default 5000. */
  timeoutMs?: number;
  retry?: { maxAttempts?: number; baseDelayMs?: number; maxDelayMs?: number };
  /** Clock for signing (ms since the epoch); default `Date.now`. */
  nowMs?: () => number;
  /** Default: the global fetch. */
  fetch?: typeof fetch;
  /** For logs and metrics; an exception thrown here is ignored so that it cannot change the call's outcome. */
  onCall?: (event: TicCallEvent) => void;
}

/** What one attempt produced: a validated answer or a TicError. */
type AttemptResult<T> = { ok: true; value: T } | { ok: false; error: TicError };

const MS_PER_SECOND = 1000;

/** The TIC client; build it once per process (module scope) with `createTicClient`. */
export class TicClient implements TicApi {
  private readonly baseUrl: string;
  private readonly sdkappid: string;
  private readonly credentials: TicCredentials;
  private readonly timeoutMs: number;
  private readonly policy: RetryPolicy;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly nowMs: () => number;
  private readonly fetchFn: typeof fetch;
  private readonly onCall: ((event: TicCallEvent) => void) | undefined;

  constructor(options: TicClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.sdkappid = String(options.sdkappid);
    this.credentials = options.credentials;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.policy = {
      maxAttempts: Math.max(1, options.retry?.maxAttempts ?? DEFAULT_MAX_ATTEMPTS),
      canResign: options.credentials.mode === 'key',
    };
    this.baseDelayMs = options.retry?.baseDelayMs ?? DEFAULT_BASE_DELAY_MS;
    this.maxDelayMs = options.retry?.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
    this.nowMs = options.nowMs ?? Date.now;
    this.fetchFn = options.fetch ?? globalThis.fetch;
    this.onCall = options.onCall;
  }

  /** Starts a recording. Never retried on a transient failure (see lib/tic/retry.ts). */
  async start(input: StartRecordingInput): Promise<StartRecordingResult> {
    if (!Number.isInteger(input.roomId)) {
      // The wire's room_id is an int (CONTRACT.md item 10); a fraction would be a 20003 at best.
      throw new TypeError('roomId must be an integer');
    }
    const { value, random } = await this.call('start', startAnswerSchema, (expireTime): StartRequestBody => {
      const body: StartRequestBody = {
        expire_time: expireTime,
        room_id: input.roomId,
        user_id: input.userId,
        user_sig: input.userSig,
      };
      if (input.groupId !== undefined) body.group_id = input.groupId;
      if (input.whiteboard !== undefined) body.whiteboard = definedOnly(input.whiteboard);
      return body;
    });
    return { taskId: value.task_id, random };
  }

  /** Stops a recording. 20011 (already ended) is thrown as a TicError; the caller treats it as done. */
  async stop(taskId: string): Promise<CallReceipt> {
    const { random } = await this.call(
      'stop',
      answerEnvelopeSchema,
      (expireTime): TaskRequestBody => ({ expire_time: expireTime, task_id: taskId }),
    );
    return { random };
  }

  async query(taskId: string): Promise<QueryResult> {
    const { value, random } = await this.call(
      'query',
      queryAnswerSchema,
      (expireTime): TaskRequestBody => ({ expire_time: expireTime, task_id: taskId }),
    );
    const answer: QueryAnswer = value;
    return { answer, random };
  }

  /** Sets the callback URL; an empty string removes it. */
  async setCallback(url: string): Promise<CallReceipt> {
    const { random } = await this.call(
      'callback',
      answerEnvelopeSchema,
      (expireTime): SetCallbackRequestBody => ({ expire_time: expireTime, callback: url }),
    );
    return { random };
  }

  /** Runs one operation with the retry policy; returns the validated answer and the random of the attempt that succeeded. */
  private async call<T extends { error_code: number }>(
    operation: TicOperation,
    schema: Schema<T>,
    makeBody: (expireTime: number) => object,
  ): Promise<{ value: T; random: number }> {
    let resignedAlready = false;
    let backoffIndex = 0;
    for (let attemptIndex = 0; ; attemptIndex += 1) {
      const random = newRandom();
      // Key mode signs every attempt afresh, so the 20001 retry's "re-sign" is this line.
      const signed = signRequest(this.credentials, Math.floor(this.nowMs() / MS_PER_SECOND));
      const result = await this.attempt(operation, schema, makeBody(signed.expireTime), signed.sign, random, attemptIndex + 1);
      if (result.ok) {
        return { value: result.value, random };
      }
      const decision = shouldRetry(operation, result.error, attemptIndex, resignedAlready, this.policy);
      if (!decision.retry) {
        throw result.error;
      }
      if (decision.resign) {
        resignedAlready = true;
      }
      if (decision.backoff) {
        await sleep(backoffDelayMs(backoffIndex, this.baseDelayMs, this.maxDelayMs));
        backoffIndex += 1;
      }
    }
  }

  /** One HTTP attempt, mapped to a validated answer or a TicError; reports itself to onCall. */
  private async attempt<T extends { error_code: number }>(
    operation: TicOperation,
    schema: Schema<T>,
    body: object,
    sign: string,
    random: number,
    attempt: number,
  ): Promise<AttemptResult<T>> {
    const startedMs = performance.now();
    const result = await this.exchange(operation, schema, body, sign, random);
    const event: TicCallEvent = {
      operation,
      random,
      attempt,
      outcome: result.ok ? 'ok' : 'error',
      durationMs: Math.round(performance.now() - startedMs),
    };
    const code = result.ok ? result.value.error_code : result.error.code;
    if (code !== undefined) event.code = code;
    this.report(event);
    return result;
  }

  private async exchange<T extends { error_code: number }>(
    operation: TicOperation,
    schema: Schema<T>,
    body: object,
    sign: string,
    random: number,
  ): Promise<AttemptResult<T>> {
    const fail = (kind: TicError['kind'], upstreamMessage: string, code?: number): AttemptResult<T> => ({
      ok: false,
      error: new TicError({
        operation,
        code,
        upstreamMessage: this.redact(upstreamMessage, sign),
        random,
        kind,
        retryable: isRetryableFailure(operation, { kind, code }, this.policy.canResign),
      }),
    });

    const query = new URLSearchParams({ sdkappid: this.sdkappid, sign, random: String(random) });
    const url = `${this.baseUrl}${TIC_PATHS[operation]}?${query.toString()}`;
    let status: number;
    let text: string;
    try {
      // The timeout signal covers reading the body too, not only the headers.
      const response = await this.fetchFn(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      if (isTimeout(error)) {
        return fail('timeout', `no answer within ${this.timeoutMs} ms`);
      }
      return fail('network', describeNetworkError(error));
    }

    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      // The body is not quoted: it may be a large proxy page, and it is not ours to log.
      return fail('bad_response', `HTTP ${status}: answer is not JSON`);
    }
    const envelope = answerEnvelopeSchema.safeParse(json);
    if (!envelope.success) {
      return fail('bad_response', `HTTP ${status}: ${describeSchemaError(envelope.error)}`);
    }
    if (envelope.data.error_code !== TicErrorCode.OK) {
      return fail('upstream', envelope.data.error_msg, envelope.data.error_code);
    }
    const answer = schema.safeParse(json);
    if (!answer.success) {
      return fail('bad_response', `HTTP ${status}: ${describeSchemaError(answer.error)}`);
    }
    return { ok: true, value: answer.data };
  }

  private report(event: TicCallEvent): void {
    if (this.onCall === undefined) return;
    try {
      this.onCall(event);
    } catch {
      // A failing metrics hook must not turn a successful call into a failure, or trigger a retry.
    }
  }

  /** Removes the sign and the TicKey from text that may end up in an error (belt and braces: upstream could echo them). */
  private redact(text: string, sign: string): string {
    let out = text.split(sign).join('[redacted]');
    if (this.credentials.mode === 'key' && this.credentials.ticKey.length > 0) {
      out = out.split(this.credentials.ticKey).join('[redacted]');
    }
    return out;
  }
}

/** Builds a TIC client; see `TicClientOptions`. */
export function createTicClient(options: TicClientOptions): TicClient {
  return new TicClient(options);
}

/** Copies an object without its undefined fields, so that JSON carries only what was given. */
function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as Partial<T>;
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

/**
 * A connection failure in words, from the system error code only (e.g. `ECONNREFUSED`):
 * fetch's own messages can quote the URL, and the URL holds the sign.
 */
function describeNetworkError(error: unknown): string {
  const cause = error instanceof Error ? (error as Error & { cause?: unknown }).cause : undefined;
  const code = cause instanceof Error ? (cause as Error & { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code) ? `connection failed (${code})` : 'connection failed';
}

function sleep(delayMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, delayMs));
}
