import { describe, expect, it } from 'vitest';
import { verifyCallbackRequest, type CallbackExpectations } from '../../lib/tic/callback-request';
import { signFor } from '../../lib/tic/sign';

const TIC_KEY = '9016607A382749C69D4F4B00C61DD083';
const NOW = 1_700_000_000;
const expect_: CallbackExpectations = {
  callbackSecret: 'path-secret-0123456789',
  sdkappid: 1400127115,
  credentials: { mode: 'key', ticKey: TIC_KEY },
  nowSeconds: NOW,
  maxFutureSeconds: 3600,
};

function started(expireTime: number) {
  return JSON.stringify({
    error_code: 0,
    error_msg: '',
    expire_time: expireTime,
    timestamp: NOW,
    task_id: 'g68cee8e90jcq4ogg8jb',
    callback_type: 'record_started',
    record_user_id: 'tic_record_user_1234_01',
    room_id: 1234,
    group_id: '1234',
  });
}

function request(overrides: { secret?: string; sdkappid?: string; sign?: string; body?: string; expireTime?: number } = {}) {
  const expireTime = overrides.expireTime ?? NOW + 300;
  return {
    pathSecret: overrides.secret ?? expect_.callbackSecret,
    query: { sdkappid: overrides.sdkappid ?? '1400127115', sign: overrides.sign ?? signFor(TIC_KEY, expireTime), random: '526919' },
    rawBody: overrides.body ?? started(expireTime),
  };
}

describe('verifyCallbackRequest', () => {
  it('accepts a correctly signed record_started and keeps the random', () => {
    const verdict = verifyCallbackRequest(request(), expect_);
    expect(verdict.kind).toBe('callback');
    if (verdict.kind === 'callback') {
      expect(verdict.callback.callback_type).toBe('record_started');
      expect(verdict.random).toBe('526919');
      expect(verdict.repaired).toBe(false);
    }
  });

  it.each([
    ['wrong path secret', { secret: 'guess' }, 404, 20002],
    ['missing path secret', { secret: '' }, 404, 20002],
    ['wrong sdkappid', { sdkappid: '1400000001' }, 403, 20000],
    ['wrong sign', { sign: 'a'.repeat(32) }, 401, 20002],
    ['malformed sign', { sign: 'not-a-sign' }, 401, 20002],
    ['expired expire_time', { expireTime: NOW - 1 }, 401, 20001],
    ['far-future expire_time', { expireTime: NOW + 3601 }, 401, 20002],
    ['garbage body', { body: '<xml>' }, 400, 20003],
    ['oversized body', { body: 'x'.repeat(1024 * 1024 + 1) }, 413, 20003],
  ] as const)('refuses %s with HTTP %i and error_code %i', (_name, overrides, httpStatus, errorCode) => {
    const verdict = verifyCallbackRequest(request(overrides), expect_);
    expect(verdict).toMatchObject({ kind: 'refused', httpStatus, errorCode });
  });

  it('keeps the raw body of an unreadable callback that came through the secret path', () => {
    const verdict = verifyCallbackRequest(request({ body: '{"callback_type":"record_finished"' + ',,,' }), expect_);
    expect(verdict).toMatchObject({ kind: 'refused', keepRaw: true });
  });

  it('treats a body without a known callback_type as the registration probe, whatever its sign', () => {
    const verdict = verifyCallbackRequest(request({ body: '{"expire_time":1}', sign: '' }), expect_);
    expect(verdict.kind).toBe('probe');
  });

  it('accepts the vendor document 4.5.1 example (trailing comma) after repair', () => {
    const expireTime = NOW + 60;
    const body = started(expireTime).replace(/}$/, ',}');
    const verdict = verifyCallbackRequest(request({ body, expireTime }), expect_);
    expect(verdict).toMatchObject({ kind: 'callback', repaired: true });
  });

  it('verifies a trial account by its fixed sign and expire_time', () => {
    const trial: CallbackExpectations = { ...expect_, credentials: { mode: 'trial', sign: 'd33bfea49d7f2795a4829c0d80047a7d', expireTime: NOW + 100 } };
    const ok = verifyCallbackRequest(request({ sign: 'd33bfea49d7f2795a4829c0d80047a7d', expireTime: NOW + 100 }), trial);
    expect(ok.kind).toBe('callback');
    const otherTime = verifyCallbackRequest(request({ sign: 'd33bfea49d7f2795a4829c0d80047a7d', expireTime: NOW + 99 }), trial);
    expect(otherTime).toMatchObject({ kind: 'refused', errorCode: 20002 });
  });
});
