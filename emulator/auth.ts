/**
 * Authentication of a request to the emulator (vendor document section 3).
 *
 * `sign = md5(TicKey + expire_time)`; query `sdkappid`, `sign`, `random`; body `expire_time`.
 * The order of the checks is documented in emulator/README.md ("Check order").
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { ApiError, Code, badField } from './errors';
import type { ResolvedOptions } from './options';

const INT32_MAX = 2_147_483_647;
const DECIMAL_INTEGER = /^[0-9]+$/;

/** Lower-case hex md5 of the TicKey followed by the decimal expire time. */
export function signOf(ticKey: string, expireTime: number): string {
  return createHash('md5').update(`${ticKey}${expireTime}`, 'utf8').digest('hex');
}

/** Step 1: the sdkappid of the query must be the configured one (else 20000). */
export function checkSdkappid(query: URLSearchParams, options: ResolvedOptions): void {
  const raw = query.get('sdkappid');
  if (raw === null || !DECIMAL_INTEGER.test(raw) || Number(raw) !== options.sdkappid) {
    throw new ApiError(Code.SERVICE_NOT_ENABLED, 'service not enabled for this sdkappid');
  }
}

/** Step 3: `random` must be a positive int32 in decimal (else 20003 naming it). */
export function checkRandom(query: URLSearchParams): number {
  const raw = query.get('random');
  if (raw === null) throw badField('random', 'missing');
  if (!DECIMAL_INTEGER.test(raw) || Number(raw) < 1 || Number(raw) > INT32_MAX) {
    throw badField('random', 'expected a positive int32');
  }
  return Number(raw);
}

/**
 * Steps 4 to 6: `expire_time` must be an integer (20003), not in the past (20001), not
 * implausibly far ahead when `maxFutureSeconds` is set (20003), and the query `sign`
 * must match it (20002; a missing sign is a mismatch).
 */
export function checkSign(
  query: URLSearchParams,
  body: Record<string, unknown>,
  options: ResolvedOptions,
  nowSeconds: number,
): void {
  const expireTime = body['expire_time'];
  if (expireTime === undefined) throw badField('expire_time', 'missing');
  if (typeof expireTime !== 'number' || !Number.isSafeInteger(expireTime)) throw badField('expire_time', 'expected int');
  if (expireTime < nowSeconds) throw new ApiError(Code.SIGN_EXPIRED, 'signature expired');
  if (options.maxFutureSeconds !== undefined && expireTime > nowSeconds + options.maxFutureSeconds) {
    throw badField('expire_time', `more than ${options.maxFutureSeconds} s in the future`);
  }
  const sign = (query.get('sign') ?? '').toLowerCase();
  const accepted =
    sameText(sign, signOf(options.ticKey, expireTime)) ||
    (options.trialSign !== undefined &&
      expireTime === options.trialExpireTime &&
      sameText(sign, options.trialSign.toLowerCase()));
  if (!accepted) throw new ApiError(Code.SIGN_MISMATCH, 'signature check failed');
}

/** Constant-time comparison; different lengths are simply unequal. */
function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}
