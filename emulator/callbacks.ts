/**
 * Callback delivery, as the vendor describes it (document 4.5, CONTRACT.md "Callbacks"):
 * `POST {callback}?sign=..&random=..&sdkappid=..`, a JSON body signed by `expire_time`,
 * resent every `callbackRetryIntervalMs` up to `callbackMaxRetries` times until the
 * receiver answers HTTP 2xx with `{"error_code":0}`.
 *
 * Each attempt is signed afresh (new `random`, `timestamp` and `expire_time`).
 * The URL is the one registered when the callback was produced.
 */
import { randomInt } from 'node:crypto';
import type { RecordCallback } from '../lib/tic/wire';
import { signOf } from './auth';
import type { CallbackFate } from './faults';
import type { ResolvedOptions } from './options';
import type { Scheduler } from './scheduler';
import type { EmulatorStats } from './stats';

/** How long the sign of a callback stays valid. */
const CALLBACK_SIGN_LIFETIME_SECONDS = 300;
const INT32_MAX = 2_147_483_647;

/** A callback body before the per-attempt fields are stamped on it. */
export type CallbackPayload = Omit<RecordCallback, 'expire_time' | 'timestamp'>;

/** One HTTP attempt, for `GET /_emulator/callbacks` (the URL is left out: it may carry a secret). */
export interface CallbackAttempt {
  taskId: string;
  callbackType: string;
  /** 0 for the first try, n for the n-th retry; duplicates repeat the attempt number that succeeded. */
  attempt: number;
  duplicate: boolean;
  atMs: number;
  outcome: 'delivered' | 'failed';
  /** HTTP status, or undefined when no answer came. */
  httpStatus: number | undefined;
  /** Why a failed attempt counts as failed. */
  detail: string;
}

export class CallbackDispatcher {
  private url: string | undefined;
  /** record_started callbacks held back until their task's record_finished has gone out. */
  private readonly held = new Map<string, () => void>();
  private readonly attempts: CallbackAttempt[] = [];

  constructor(
    private readonly options: ResolvedOptions,
    private readonly scheduler: Scheduler,
    private readonly stats: () => EmulatorStats,
  ) {}

  callbackUrl(): string | undefined {
    return this.url;
  }

  log(): CallbackAttempt[] {
    return [...this.attempts];
  }

  reset(): void {
    this.url = undefined;
    this.held.clear();
    this.attempts.length = 0;
  }

  /**
   * Registers `url` after its test request is answered `{"error_code":0}`; an empty string
   * removes the callback. Returns a reason on failure (the caller answers 20004).
   * The test request has no `callback_type` (CONTRACT.md item 7).
   */
  async register(url: string): Promise<{ ok: true } | { ok: false; reason: string }> {
    if (url === '') {
      this.url = undefined;
      return { ok: true };
    }
    this.stats().callbacks.testRequests += 1;
    const epoch = this.scheduler.currentEpoch();
    const nowSeconds = Math.floor(Date.now() / 1000);
    const result = await this.post(url, { timestamp: nowSeconds });
    if (!result.ok) return { ok: false, reason: result.detail };
    if (!this.scheduler.isCurrent(epoch)) return { ok: false, reason: 'emulator reset meanwhile' };
    this.url = url;
    return { ok: true };
  }

  /** Produces one callback: sends it (subject to `fate`) if a callback URL is set. */
  send(payload: CallbackPayload, fate: CallbackFate): void {
    const counters = this.stats().callbacks;
    counters.queued += 1;
    const url = this.url;
    const isFinished = payload.callback_type === 'record_finished';
    const afterFirstAttempt = () => {
      if (isFinished) this.release(payload.task_id);
    };
    if (url === undefined) {
      counters.noUrl += 1;
      afterFirstAttempt();
      return;
    }
    if (fate.drop) {
      counters.dropped += 1;
      afterFirstAttempt();
      return;
    }
    const epoch = this.scheduler.currentEpoch();
    const deliver = () => {
      this.scheduler.after(fate.delayMs, () => void this.attempt(epoch, url, payload, 0, fate.duplicate, afterFirstAttempt));
    };
    if (fate.holdUntilFinished) {
      counters.reordered += 1;
      this.held.set(payload.task_id, deliver);
      return;
    }
    deliver();
  }

  private release(taskId: string): void {
    const deliver = this.held.get(taskId);
    if (!deliver) return;
    this.held.delete(taskId);
    deliver();
  }

  /** One try; `epoch` stops a callback produced before a reset or close from going on after it. */
  private async attempt(
    epoch: number,
    url: string,
    payload: CallbackPayload,
    attempt: number,
    duplicate: boolean,
    afterFirstAttempt: () => void,
  ): Promise<void> {
    const counters = this.stats().callbacks;
    const result = await this.post(url, payload);
    if (!this.scheduler.isCurrent(epoch)) return;
    this.record(payload, attempt, false, result);
    if (attempt === 0) afterFirstAttempt();
    if (result.ok) {
      counters.delivered += 1;
      if (duplicate) {
        counters.duplicated += 1;
        const again = await this.post(url, payload);
        this.record(payload, attempt, true, again);
      }
      return;
    }
    counters.failedAttempts += 1;
    if (attempt >= this.options.callbackMaxRetries) {
      counters.gaveUp += 1;
      return;
    }
    this.scheduler.after(this.options.callbackRetryIntervalMs, () => {
      counters.retried += 1;
      void this.attempt(epoch, url, payload, attempt + 1, duplicate, afterFirstAttempt);
    });
  }

  private record(
    payload: CallbackPayload,
    attempt: number,
    duplicate: boolean,
    result: { ok: boolean; httpStatus: number | undefined; detail: string },
  ): void {
    this.attempts.push({
      taskId: payload.task_id,
      callbackType: payload.callback_type,
      attempt,
      duplicate,
      atMs: Date.now(),
      outcome: result.ok ? 'delivered' : 'failed',
      httpStatus: result.httpStatus,
      detail: result.detail,
    });
  }

  /** One signed POST; ok only for HTTP 2xx with a JSON body whose `error_code` is 0. */
  private async post(
    url: string,
    body: Record<string, unknown>,
  ): Promise<{ ok: boolean; httpStatus: number | undefined; detail: string }> {
    this.stats().callbacks.attempts += body['callback_type'] === undefined ? 0 : 1;
    const nowSeconds = Math.floor(Date.now() / 1000);
    const expireTime = nowSeconds + CALLBACK_SIGN_LIFETIME_SECONDS;
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return { ok: false, httpStatus: undefined, detail: 'not a URL' };
    }
    target.searchParams.set('sign', signOf(this.options.ticKey, expireTime));
    target.searchParams.set('random', String(randomInt(1, INT32_MAX + 1)));
    target.searchParams.set('sdkappid', String(this.options.sdkappid));
    const { signal, done } = this.scheduler.requestSignal(this.options.callbackTimeoutMs);
    try {
      const response = await fetch(target, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ expire_time: expireTime, timestamp: nowSeconds, ...body }),
        signal,
      });
      const text = await response.text();
      if (response.status < 200 || response.status > 299) {
        return { ok: false, httpStatus: response.status, detail: `HTTP ${response.status}` };
      }
      return answeredOk(text)
        ? { ok: true, httpStatus: response.status, detail: 'ok' }
        : { ok: false, httpStatus: response.status, detail: 'answer was not {"error_code":0}' };
    } catch (error) {
      const reason = signal.aborted ? String((signal.reason as Error | undefined)?.message ?? 'aborted') : describe(error);
      return { ok: false, httpStatus: undefined, detail: reason };
    } finally {
      done();
    }
  }
}

function answeredOk(text: string): boolean {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && (parsed as Record<string, unknown>)['error_code'] === 0;
  } catch {
    return false;
  }
}

/** A connection error's cause, without the URL (which may carry the receiver's secret). */
function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string } } | undefined)?.cause;
  return cause?.code ? `connection failed (${cause.code})` : 'connection failed';
}
