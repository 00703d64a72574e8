import { createRequire } from 'node:module';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { decodeUserSig, makeUserSig } from '../../lib/tic/user-sig';

interface TlsSigApi {
  genUserSig(userId: string, expireSeconds: number): string;
}
const require = createRequire(import.meta.url);
const { Api } = require('tls-sig-api-v2') as { Api: new (sdkappid: number, key: string) => TlsSigApi };

const SDKAPPID = 1400000000;
const SECRET_KEY = '5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e';

describe('makeUserSig', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('matches the fixed vector (TLS.sig of xiaojun at 1600000000, 180 days)', () => {
    const userSig = makeUserSig({
      sdkappid: SDKAPPID,
      secretKey: SECRET_KEY,
      userId: 'xiaojun',
      lifetimeSeconds: 15552000,
      nowSeconds: 1600000000,
    });
    expect(decodeUserSig(userSig)).toEqual({
      'TLS.ver': '2.0',
      'TLS.identifier': 'xiaojun',
      'TLS.sdkappid': 1400000000,
      'TLS.time': 1600000000,
      'TLS.expire': 15552000,
      'TLS.sig': '1Z5PngDjGaufeSiPoBuxdHY7EK3JTdAjMP93S4KvV3M=',
    });
  });

  it.each([
    ['xiaojun', 1600000000, 15552000],
    ['tic_record_user_1234_01', 1700000123, 7200],
    ['tic_record_user_2147483647_aZ09x', 1557891712, 86400],
  ])('is identical to tls-sig-api-v2 for %s at %d', (userId, nowSeconds, lifetimeSeconds) => {
    vi.useFakeTimers();
    vi.setSystemTime(nowSeconds * 1000 + 400);
    const fromPackage = new Api(SDKAPPID, SECRET_KEY).genUserSig(userId, lifetimeSeconds);
    vi.useRealTimers();
    const ours = makeUserSig({ sdkappid: SDKAPPID, secretKey: SECRET_KEY, userId, lifetimeSeconds, nowSeconds });
    expect(decodeUserSig(ours)).toEqual(decodeUserSig(fromPackage));
    expect(ours).toBe(fromPackage);
  });

  it('uses only the URL-safe substitutes of base64', () => {
    const userSig = makeUserSig({ sdkappid: SDKAPPID, secretKey: SECRET_KEY, userId: 'u', lifetimeSeconds: 3600 });
    expect(userSig).toMatch(/^[A-Za-z0-9*_-]+$/);
  });

  it('defaults TLS.time to the current time', () => {
    vi.useFakeTimers();
    vi.setSystemTime(1_700_000_000_999);
    const userSig = makeUserSig({ sdkappid: SDKAPPID, secretKey: SECRET_KEY, userId: 'u', lifetimeSeconds: 3600 });
    expect(decodeUserSig(userSig)['TLS.time']).toBe(1_700_000_000);
  });

  it('changes with the secret key', () => {
    const input = { sdkappid: SDKAPPID, userId: 'u', lifetimeSeconds: 3600, nowSeconds: 1 };
    const a = decodeUserSig(makeUserSig({ ...input, secretKey: 'key-a' }));
    const b = decodeUserSig(makeUserSig({ ...input, secretKey: 'key-b' }));
    expect(a['TLS.sig']).not.toBe(b['TLS.sig']);
  });

  it.each([0, -5, 1.5])('refuses a lifetime of %s', (lifetimeSeconds) => {
    expect(() => makeUserSig({ sdkappid: SDKAPPID, secretKey: SECRET_KEY, userId: 'u', lifetimeSeconds })).toThrow(
      RangeError,
    );
  });
});

describe('decodeUserSig', () => {
  it.each(['', 'not a sig', 'eJyrVgrxCdYrSy1SslIy0jNQ'])('throws on %j without echoing it', (text) => {
    expect(() => decodeUserSig(text)).toThrow('UserSig is not a deflated JSON document');
  });
});
