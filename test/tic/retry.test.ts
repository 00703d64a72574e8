import { describe, expect, it } from 'vitest';
import { TicErrorCode, type TicOperation } from '../../lib/tic/errors';
import { backoffDelayMs, isRetryableFailure, shouldRetry, type RetryFailure } from '../../lib/tic/retry';

const OPERATIONS: TicOperation[] = ['start', 'stop', 'query', 'callback'];
const KEY = { maxAttempts: 3, canResign: true };
const TRIAL = { maxAttempts: 3, canResign: false };

const upstream = (code: number): RetryFailure => ({ kind: 'upstream', code });
const transport = (kind: 'timeout' | 'network' | 'bad_response'): RetryFailure => ({ kind, code: undefined });

/** The failures, by name, and whether each is transient (retried with backoff, except on start). */
const TRANSIENT: Array<[string, RetryFailure]> = [
  ['timeout', transport('timeout')],
  ['network', transport('network')],
  ['bad_response', transport('bad_response')],
  ['20099', upstream(TicErrorCode.INTERNAL)],
  ['20005', upstream(TicErrorCode.DATA_READ_FAILED)],
];
const DEFINITE: Array<[string, RetryFailure]> = [
  ['20000', upstream(TicErrorCode.SERVICE_NOT_ENABLED)],
  ['20002', upstream(TicErrorCode.SIGN_MISMATCH)],
  ['20003', upstream(TicErrorCode.BAD_REQUEST)],
  ['20004', upstream(TicErrorCode.CALLBACK_SETUP_FAILED)],
  ['20011', upstream(TicErrorCode.TASK_ALREADY_ENDED)],
  ['an undocumented code', upstream(12345)],
];

describe('shouldRetry', () => {
  describe.each(['stop', 'query', 'callback'] as const)('%s', (operation) => {
    it.each(TRANSIENT)('retries %s with backoff while attempts remain', (_name, failure) => {
      expect(shouldRetry(operation, failure, 0, false, KEY)).toEqual({ retry: true, resign: false, backoff: true });
      expect(shouldRetry(operation, failure, 1, false, KEY)).toEqual({ retry: true, resign: false, backoff: true });
      expect(shouldRetry(operation, failure, 2, false, KEY)).toEqual({ retry: false });
      expect(isRetryableFailure(operation, failure, true)).toBe(true);
      expect(isRetryableFailure(operation, failure, false)).toBe(true);
    });

    it.each(TRANSIENT)('retries %s in trial mode too', (_name, failure) => {
      expect(shouldRetry(operation, failure, 0, false, TRIAL)).toEqual({ retry: true, resign: false, backoff: true });
    });

    it('gives one more attempt when a re-sign retry was spent', () => {
      expect(shouldRetry(operation, transport('timeout'), 2, true, KEY)).toEqual({ retry: true, resign: false, backoff: true });
      expect(shouldRetry(operation, transport('timeout'), 3, true, KEY)).toEqual({ retry: false });
    });

    it('makes a single attempt when maxAttempts is 1', () => {
      expect(shouldRetry(operation, transport('network'), 0, false, { maxAttempts: 1, canResign: true })).toEqual({
        retry: false,
      });
    });
  });

  describe('start', () => {
    it.each(TRANSIENT)('is never repeated after %s: it may have started a recorder', (_name, failure) => {
      expect(shouldRetry('start', failure, 0, false, KEY)).toEqual({ retry: false });
      expect(shouldRetry('start', failure, 0, false, { maxAttempts: 10, canResign: true })).toEqual({ retry: false });
      expect(isRetryableFailure('start', failure, true)).toBe(false);
    });
  });

  describe.each(OPERATIONS)('%s and 20001 (sign expired)', (operation) => {
    const expired = upstream(TicErrorCode.SIGN_EXPIRED);

    it('re-signs and retries once, at once, in key mode', () => {
      expect(shouldRetry(operation, expired, 0, false, KEY)).toEqual({ retry: true, resign: true, backoff: false });
      expect(shouldRetry(operation, expired, 1, true, KEY)).toEqual({ retry: false });
      expect(isRetryableFailure(operation, expired, true)).toBe(true);
    });

    it('re-signs even when the attempt budget is spent (the re-sign retry is outside it)', () => {
      expect(shouldRetry(operation, expired, 2, false, KEY)).toEqual({ retry: true, resign: true, backoff: false });
    });

    it('is not retried in trial mode: the fixed sign cannot be renewed', () => {
      expect(shouldRetry(operation, expired, 0, false, TRIAL)).toEqual({ retry: false });
      expect(isRetryableFailure(operation, expired, false)).toBe(false);
    });
  });

  describe.each(OPERATIONS)('%s and definite answers', (operation) => {
    it.each(DEFINITE)('never retries %s', (_name, failure) => {
      expect(shouldRetry(operation, failure, 0, false, KEY)).toEqual({ retry: false });
      expect(isRetryableFailure(operation, failure, true)).toBe(false);
    });
  });
});

describe('backoffDelayMs', () => {
  it('is zero when the jitter source gives 0', () => {
    expect(backoffDelayMs(3, 200, 2000, () => 0)).toBe(0);
  });

  it('stays below base * 2^retry, capped at the maximum', () => {
    const almostOne = () => 0.999999;
    expect(backoffDelayMs(0, 200, 2000, almostOne)).toBe(199);
    expect(backoffDelayMs(1, 200, 2000, almostOne)).toBe(399);
    expect(backoffDelayMs(2, 200, 2000, almostOne)).toBe(799);
    expect(backoffDelayMs(3, 200, 2000, almostOne)).toBe(1599);
    expect(backoffDelayMs(4, 200, 2000, almostOne)).toBe(1999);
    expect(backoffDelayMs(30, 200, 2000, almostOne)).toBe(1999);
  });

  it('keeps below the ceiling even when the source misbehaves and gives 1', () => {
    expect(backoffDelayMs(0, 200, 2000, () => 1)).toBe(199);
  });

  it('is an integer within [0, ceiling) for random jitter', () => {
    for (let retry = 0; retry < 8; retry += 1) {
      for (let i = 0; i < 200; i += 1) {
        const delayMs = backoffDelayMs(retry, 200, 2000);
        expect(Number.isInteger(delayMs)).toBe(true);
        expect(delayMs).toBeGreaterThanOrEqual(0);
        expect(delayMs).toBeLessThan(Math.min(2000, 200 * 2 ** retry));
      }
    }
  });
});
