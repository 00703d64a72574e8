/**
 * The checks on a request that claims to be a callback from the TIC service, in the order
 * that costs an attacker the most and us the least: the unguessable path secret, the
 * sdkappid, the body size, then the body (parsed as CONTRACT.md item 4 says) and its sign
 * and `expire_time` window. Pure: the handler adapts the HTTP event and acts on the verdict.
 *
 * The verdict's `errorCode` uses the vendor's own codes, because the vendor reads our
 * answer: anything but `{"error_code":0}` makes it retry (CONTRACT.md "Callbacks").
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import { MAX_CALLBACK_BODY_BYTES, parseCallbackBody, type ParsedCallback } from './callback-body';
import { TicErrorCode } from './errors';
import { type TicCredentials, verifySign } from './sign';
import type { RecordCallback } from './wire';

export interface CallbackRequest {
  /** The `{secret}` path segment of `/tic/callback/{secret}`. */
  pathSecret: string | undefined;
  query: Readonly<Record<string, string | undefined>>;
  rawBody: string;
}

export interface CallbackExpectations {
  callbackSecret: string;
  sdkappid: number;
  credentials: TicCredentials;
  nowSeconds: number;
  maxFutureSeconds: number;
}

export type CallbackVerdict =
  | { kind: 'callback'; callback: RecordCallback; repaired: boolean; random: string | undefined }
  /** The registration test request (CONTRACT.md item 7): answer `{"error_code":0}`, change nothing. */
  | { kind: 'probe'; random: string | undefined }
  | {
      kind: 'refused';
      httpStatus: number;
      errorCode: number;
      errorMsg: string;
      /** Keep the raw body for inspection: it came through the secret path but could not be read. */
      keepRaw: boolean;
      random: string | undefined;
    };

function sameSecret(presented: string, expected: string): boolean {
  // Digests have equal length whatever was presented, as timingSafeEqual requires.
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

function refused(httpStatus: number, errorCode: number, errorMsg: string, random: string | undefined, keepRaw = false): CallbackVerdict {
  return { kind: 'refused', httpStatus, errorCode, errorMsg, keepRaw, random };
}

/** Decides what to do with a callback request. Never throws. */
export function verifyCallbackRequest(request: CallbackRequest, expect: CallbackExpectations): CallbackVerdict {
  const random = request.query.random;
  if (!request.pathSecret || !sameSecret(request.pathSecret, expect.callbackSecret)) {
    return refused(404, TicErrorCode.SIGN_MISMATCH, 'unknown callback path', random);
  }
  if (request.query.sdkappid !== String(expect.sdkappid)) {
    return refused(403, TicErrorCode.SERVICE_NOT_ENABLED, 'sdkappid does not match', random);
  }
  if (Buffer.byteLength(request.rawBody, 'utf8') > MAX_CALLBACK_BODY_BYTES) {
    return refused(413, TicErrorCode.BAD_REQUEST, `body larger than ${MAX_CALLBACK_BODY_BYTES} bytes`, random);
  }
  const parsed: ParsedCallback = parseCallbackBody(request.rawBody);
  if (parsed.kind === 'invalid') {
    return refused(400, TicErrorCode.BAD_REQUEST, parsed.reason, random, true);
  }
  if (parsed.kind === 'probe') {
    // The test request carries no documented sign; it changes nothing, so the path secret suffices.
    return { kind: 'probe', random };
  }
  const sign = request.query.sign ?? '';
  const expireTime = parsed.callback.expire_time;
  const check = signCheck(sign, expireTime, expect);
  if (!check.ok) {
    const expired = check.reason === 'expired';
    return refused(
      401,
      expired ? TicErrorCode.SIGN_EXPIRED : TicErrorCode.SIGN_MISMATCH,
      {
        expired: 'sign expired',
        too_far_in_future: 'expire_time too far in the future',
        mismatch: 'sign check failed',
        malformed: 'sign missing or malformed',
      }[check.reason],
      random,
    );
  }
  return { kind: 'callback', callback: parsed.callback, repaired: parsed.repaired, random };
}

function signCheck(sign: string, expireTime: number, expect: CallbackExpectations) {
  if (expect.credentials.mode === 'key') {
    return verifySign({
      sign,
      expireTime,
      ticKey: expect.credentials.ticKey,
      nowSeconds: expect.nowSeconds,
      maxFutureSeconds: expect.maxFutureSeconds,
    });
  }
  // A trial account has no TicKey: the vendor can only be signing with the fixed pair it gave us.
  const trial = expect.credentials;
  if (expireTime < expect.nowSeconds) return { ok: false as const, reason: 'expired' as const };
  const matches = expireTime === trial.expireTime && sameSecret(sign.toLowerCase(), trial.sign.toLowerCase());
  return matches ? { ok: true as const } : { ok: false as const, reason: 'mismatch' as const };
}
