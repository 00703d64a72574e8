/**
 * When the client repeats a failed TIC request, as pure decisions so that they can be read
 * and tested on their own (CONTRACT.md "Error codes").
 */
import { TicErrorCode, type TicError, type TicOperation } from './errors';

/** Defaults of the client's retry policy. */
export const DEFAULT_MAX_ATTEMPTS = 3;
export const DEFAULT_BASE_DELAY_MS = 200;
export const DEFAULT_MAX_DELAY_MS = 2000;

/** What a decision needs to know of a failure: its kind and, for an upstream answer, its code. */
export type RetryFailure = Pick<TicError, 'kind' | 'code'>;

export interface RetryPolicy {
  /** Attempts in all for transient failures (the first one included). */
  maxAttempts: number;
  /** False in trial mode: a fixed sign cannot be renewed, so re-signing changes nothing. */
  canResign: boolean;
}

export type RetryDecision =
  | { retry: false }
  /** `resign`: sign again with a fresh `expire_time`; `backoff`: wait a jittered delay first. */
  | { retry: true; resign: boolean; backoff: boolean };

/** Codes that may go away by themselves: internal error, data read failure. */
const TRANSIENT_CODES: ReadonlySet<number> = new Set([TicErrorCode.INTERNAL, TicErrorCode.DATA_READ_FAILED]);

/**
 * Whether a failure is transient: the same request may succeed later.
 *
 * Network faults, timeouts and unreadable answers (a proxy's error page, a truncated body)
 * are; so are 20099 and 20005. Everything else that upstream answers (20000, 20002, 20003,
 * 20004, 20011, and codes the document does not list) is a definite answer.
 */
function isTransient(failure: RetryFailure): boolean {
  if (failure.kind !== 'upstream') {
    return true;
  }
  return failure.code !== undefined && TRANSIENT_CODES.has(failure.code);
}

/**
 * Whether a failure is of a kind that a later try of the same operation may fix: the
 * `retryable` flag of `TicError`, for callers (the reconciler) that decide to try later.
 */
export function isRetryableFailure(operation: TicOperation, failure: RetryFailure, canResign: boolean): boolean {
  if (failure.kind === 'upstream' && failure.code === TicErrorCode.SIGN_EXPIRED) {
    // 20001 refuses the request before doing anything, so even start is safe to repeat.
    return canResign;
  }
  if (operation === 'start') {
    // A start that timed out, lost its connection, or got 20099/20005 may still have
    // started a recorder: a second start makes a second recorder in the room, and the
    // vendor document (2.2) warns that reusing a user_id kicks the first one out.
    // Only a query of the room's state (not a blind repeat) can tell what happened.
    return false;
  }
  return isTransient(failure);
}

/**
 * Whether the client repeats a request after `failure`.
 *
 * @param attemptIndex - 0-based index of the attempt that just failed.
 * @param resignedAlready - whether a 20001 re-sign retry was already spent on this call.
 *
 * 20001 (sign expired) gets one immediate retry with a fresh sign, for every operation,
 * in key mode only; that retry is outside the `maxAttempts` budget. Transient failures of
 * stop, query and callback-setting are retried with backoff until `maxAttempts` attempts
 * (plus the re-sign retry, if one was spent) have been made. `start` is never retried on a
 * transient failure (see `isRetryableFailure`).
 */
export function shouldRetry(
  operation: TicOperation,
  failure: RetryFailure,
  attemptIndex: number,
  resignedAlready: boolean,
  policy: RetryPolicy,
): RetryDecision {
  if (failure.kind === 'upstream' && failure.code === TicErrorCode.SIGN_EXPIRED) {
    return policy.canResign && !resignedAlready ? { retry: true, resign: true, backoff: false } : { retry: false };
  }
  if (!isRetryableFailure(operation, failure, policy.canResign)) {
    return { retry: false };
  }
  const attemptsAllowed = policy.maxAttempts + (resignedAlready ? 1 : 0);
  return attemptIndex + 1 < attemptsAllowed ? { retry: true, resign: false, backoff: true } : { retry: false };
}

/**
 * Full-jitter exponential backoff: a uniform delay in [0, min(maxMs, baseMs * 2^retryIndex)).
 *
 * Full jitter spreads the retries of many Lambdas that failed together, instead of
 * sending them back in step.
 *
 * @param retryIndex - 0 for the first retry.
 * @param rng - a uniform source in [0, 1); `Math.random` is enough for jitter.
 */
export function backoffDelayMs(retryIndex: number, baseMs: number, maxMs: number, rng: () => number = Math.random): number {
  const ceilingMs = Math.min(maxMs, baseMs * 2 ** Math.max(0, retryIndex));
  const unit = Math.min(Math.max(rng(), 0), 1);
  return Math.min(Math.floor(unit * ceilingMs), Math.max(0, ceilingMs - 1));
}
