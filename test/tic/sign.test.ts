import { beforeEach, describe, expect, it, vi } from 'vitest';
import * as crypto from 'node:crypto';
import { DEFAULT_SIGN_LIFETIME_SECONDS, signFor, signRequest, verifySign } from '../../lib/tic/sign';
import { MAX_RANDOM, newRandom } from '../../lib/tic/random';

// Wrap (not replace) timingSafeEqual so that the tests can see which path a check took.
vi.mock('node:crypto', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:crypto')>();
  return { ...original, timingSafeEqual: vi.fn(original.timingSafeEqual) };
});

const timingSafeEqual = vi.mocked(crypto.timingSafeEqual);

describe('signFor', () => {
  it.each([
    ['9016607A382749C69D4F4B00C61DD083', 1548247837, '5400bac77ba6467a8f8ac056f1769f45'],
    ['Xz4ZgayTr7rMgWQrH', 1588040109, 'a2dabb362a9b811c0e26953a6276a41c'],
    ['NjFGoDEy', 1614151508, 'b9454ab5a85f9b7ad36071f5688ed34d'],
  ])('md5(%s + %d) is %s', (ticKey, expireTime, sign) => {
    expect(signFor(ticKey, expireTime)).toBe(sign);
  });
});

describe('signRequest', () => {
  it('key mode signs now + the default lifetime of 300 s', () => {
    const signed = signRequest({ mode: 'key', ticKey: '9016607A382749C69D4F4B00C61DD083' }, 1548247537);
    expect(DEFAULT_SIGN_LIFETIME_SECONDS).toBe(300);
    expect(signed).toEqual({ expireTime: 1548247837, sign: '5400bac77ba6467a8f8ac056f1769f45' });
  });

  it('key mode uses the lifetime it is given (the document example: 120 s)', () => {
    const signed = signRequest(
      { mode: 'key', ticKey: '9016607A382749C69D4F4B00C61DD083', signLifetimeSeconds: 120 },
      1548247717,
    );
    expect(signed).toEqual({ expireTime: 1548247837, sign: '5400bac77ba6467a8f8ac056f1769f45' });
  });

  it('trial mode sends the fixed pair as given, whatever the time', () => {
    const credentials = { mode: 'trial', sign: 'd33bfea49d7f2795a4829c0d80047a7d', expireTime: 1557202745 } as const;
    expect(signRequest(credentials, 1)).toEqual({ sign: 'd33bfea49d7f2795a4829c0d80047a7d', expireTime: 1557202745 });
    expect(signRequest(credentials, 2_000_000_000)).toEqual({
      sign: 'd33bfea49d7f2795a4829c0d80047a7d',
      expireTime: 1557202745,
    });
  });
});

describe('verifySign', () => {
  const ticKey = '9016607A382749C69D4F4B00C61DD083';
  const expireTime = 1548247837;
  const good = '5400bac77ba6467a8f8ac056f1769f45';
  const base = { ticKey, expireTime, sign: good, nowSeconds: expireTime - 60, maxFutureSeconds: 3600 };

  beforeEach(() => {
    timingSafeEqual.mockClear();
  });

  it('accepts the right sign, comparing in constant time', () => {
    expect(verifySign(base)).toEqual({ ok: true });
    expect(timingSafeEqual).toHaveBeenCalledTimes(1);
  });

  it('accepts the right sign in upper-case hex', () => {
    expect(verifySign({ ...base, sign: good.toUpperCase() })).toEqual({ ok: true });
  });

  it('accepts a sign whose expire_time is exactly now', () => {
    expect(verifySign({ ...base, nowSeconds: expireTime })).toEqual({ ok: true });
  });

  it('refuses a wrong sign of the right length as a mismatch, through the constant-time comparison', () => {
    expect(verifySign({ ...base, sign: 'f'.repeat(32) })).toEqual({ ok: false, reason: 'mismatch' });
    expect(timingSafeEqual).toHaveBeenCalledTimes(1);
  });

  it('refuses the sign of another key as a mismatch', () => {
    expect(verifySign({ ...base, ticKey: 'another-key' })).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('refuses a sign made for another expire_time as a mismatch', () => {
    expect(verifySign({ ...base, expireTime: expireTime + 1 })).toEqual({ ok: false, reason: 'mismatch' });
  });

  it.each([
    ['too short', good.slice(0, 31)],
    ['too long', `${good}0`],
    ['empty', ''],
    ['not hex', `${good.slice(0, 31)}g`],
  ])('refuses a %s sign as malformed without comparing', (_label, sign) => {
    expect(verifySign({ ...base, sign })).toEqual({ ok: false, reason: 'malformed' });
    expect(timingSafeEqual).not.toHaveBeenCalled();
  });

  it('refuses a non-integer expire_time as malformed', () => {
    expect(verifySign({ ...base, expireTime: Number.NaN })).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses an expire_time in the past as expired', () => {
    expect(verifySign({ ...base, nowSeconds: expireTime + 1 })).toEqual({ ok: false, reason: 'expired' });
    expect(timingSafeEqual).not.toHaveBeenCalled();
  });

  it('refuses an expire_time beyond the window as too far in the future', () => {
    expect(verifySign({ ...base, nowSeconds: expireTime - 3601 })).toEqual({ ok: false, reason: 'too_far_in_future' });
    expect(verifySign({ ...base, nowSeconds: expireTime - 3600 })).toEqual({ ok: true });
  });
});

describe('newRandom', () => {
  it('gives positive int32 values, not all the same', () => {
    const values = Array.from({ length: 2000 }, () => newRandom());
    for (const value of values) {
      expect(Number.isInteger(value)).toBe(true);
      expect(value).toBeGreaterThanOrEqual(1);
      expect(value).toBeLessThanOrEqual(MAX_RANDOM);
    }
    expect(MAX_RANDOM).toBe(2 ** 31 - 1);
    expect(new Set(values).size).toBeGreaterThan(1990);
  });
});
