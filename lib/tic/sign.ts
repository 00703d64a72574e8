/**
 * Request signatures of the TIC recording API, in both directions (CONTRACT.md
 * "Authentication of every request").
 *
 * `sign = md5(TicKey + expire_time)`, lower-case hex. The signature covers no part of the
 * body and stays the same until `expire_time`: it proves knowledge of the key, nothing more.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** How long a sign we make stays valid when the credentials do not say. */
export const DEFAULT_SIGN_LIFETIME_SECONDS = 300;

/** A sign is an md5 digest: 32 hex characters. */
const SIGN_PATTERN = /^[0-9a-fA-F]{32}$/;

/**
 * What the client signs with.
 *
 * - `key`: the TicKey from the vendor; a fresh sign is made for every request.
 * - `trial`: trial accounts get no TicKey, only a fixed sign and the `expire_time` it
 *   was made for, to be sent as they are (vendor document section 3, last note).
 */
export type TicCredentials =
  | { mode: 'key'; ticKey: string; signLifetimeSeconds?: number }
  | { mode: 'trial'; sign: string; expireTime: number };

/** A sign and the `expire_time` it covers; the two always travel together. */
export interface SignedPair {
  sign: string;
  expireTime: number;
}

/**
 * The sign for a TicKey and an `expire_time` (Unix seconds): lower-case hex md5 of the
 * TicKey followed by the decimal expire time.
 */
export function signFor(ticKey: string, expireTime: number): string {
  return createHash('md5').update(ticKey + String(expireTime), 'utf8').digest('hex');
}

/**
 * The sign and `expire_time` to send with a request made at `nowSeconds`.
 *
 * Key mode signs `now + signLifetimeSeconds`; trial mode returns the fixed pair as given
 * (re-signing is impossible without the key).
 */
export function signRequest(credentials: TicCredentials, nowSeconds: number): SignedPair {
  if (credentials.mode === 'trial') {
    return { sign: credentials.sign, expireTime: credentials.expireTime };
  }
  const lifetimeSeconds = credentials.signLifetimeSeconds ?? DEFAULT_SIGN_LIFETIME_SECONDS;
  const expireTime = Math.floor(nowSeconds) + lifetimeSeconds;
  return { sign: signFor(credentials.ticKey, expireTime), expireTime };
}

/** Why a sign was refused. */
export type SignRejection = 'expired' | 'too_far_in_future' | 'mismatch' | 'malformed';

export interface VerifySignInput {
  /** The `sign` query parameter as received. */
  sign: string;
  /** The `expire_time` of the body as received. */
  expireTime: number;
  ticKey: string;
  nowSeconds: number;
  /**
   * How far in the future an `expire_time` may lie. A sign valid for days would be a
   * long-lived bearer token for anyone who saw one (CONTRACT.md "Security reading").
   */
  maxFutureSeconds: number;
}

/**
 * Checks the sign of a request the vendor sent us (a callback).
 *
 * The comparison runs in constant time over equal-length buffers; a sign that is not
 * 32 hex characters is refused as `malformed` before any comparison. The hex is compared
 * case-insensitively (the vendor sends lower case; an upper-case digest is the same digest).
 */
export function verifySign(input: VerifySignInput): { ok: true } | { ok: false; reason: SignRejection } {
  if (!SIGN_PATTERN.test(input.sign) || !Number.isSafeInteger(input.expireTime)) {
    return { ok: false, reason: 'malformed' };
  }
  if (input.expireTime < input.nowSeconds) {
    return { ok: false, reason: 'expired' };
  }
  if (input.expireTime > input.nowSeconds + input.maxFutureSeconds) {
    return { ok: false, reason: 'too_far_in_future' };
  }
  const expected = Buffer.from(signFor(input.ticKey, input.expireTime), 'utf8');
  const received = Buffer.from(input.sign.toLowerCase(), 'utf8');
  // Both are 32 ASCII bytes here (checked above), as timingSafeEqual requires.
  return timingSafeEqual(expected, received) ? { ok: true } : { ok: false, reason: 'mismatch' };
}
