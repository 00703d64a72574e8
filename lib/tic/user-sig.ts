/**
 * UserSig (TLS sig v2) for the recording identity (CONTRACT.md "Flow" item 2).
 *
 * Our own implementation of Tencent's `tls-sig-api-v2` `genUserSig`, byte for byte (the
 * tests compare the two), because the package reads the clock itself and we need to inject
 * it; it has no userbuf support, which a recorder's UserSig does not use.
 *
 * Format: a JSON document of `TLS.ver`, `TLS.identifier`, `TLS.sdkappid`, `TLS.time`,
 * `TLS.expire` and `TLS.sig` = base64 HMAC-SHA256 (key: the app's secret key) over
 * `TLS.identifier:…\nTLS.sdkappid:…\nTLS.time:…\nTLS.expire:…\n`; zlib-deflated, base64,
 * with `+` → `*`, `/` → `-`, `=` → `_`.
 */
import { createHmac } from 'node:crypto';
import { deflateSync, inflateSync } from 'node:zlib';

export interface MakeUserSigInput {
  sdkappid: number;
  /** The app's UserSig secret key: a secret, never logged. */
  secretKey: string;
  userId: string;
  /** `TLS.expire`: a lifetime from `TLS.time`, not an absolute time. Give the recorder an hour or more. */
  lifetimeSeconds: number;
  /** `TLS.time`; default now. */
  nowSeconds?: number;
}

/** Makes a UserSig for `userId`. */
export function makeUserSig(input: MakeUserSigInput): string {
  if (!Number.isSafeInteger(input.lifetimeSeconds) || input.lifetimeSeconds <= 0) {
    throw new RangeError('lifetimeSeconds must be a positive integer');
  }
  const time = Math.floor(input.nowSeconds ?? Date.now() / 1000);
  const signed =
    `TLS.identifier:${input.userId}\n` +
    `TLS.sdkappid:${input.sdkappid}\n` +
    `TLS.time:${time}\n` +
    `TLS.expire:${input.lifetimeSeconds}\n`;
  const sig = createHmac('sha256', input.secretKey).update(signed).digest('base64');
  // Key order as the package writes it, so that the output is identical.
  const doc = {
    'TLS.ver': '2.0',
    'TLS.identifier': input.userId,
    'TLS.sdkappid': Number(input.sdkappid),
    'TLS.time': time,
    'TLS.expire': input.lifetimeSeconds,
    'TLS.sig': sig,
  };
  return escapeBase64(deflateSync(Buffer.from(JSON.stringify(doc))).toString('base64'));
}

/**
 * The JSON document inside a UserSig (inflate + parse). Verifies nothing.
 *
 * @throws Error when the text is not a deflated JSON object.
 */
export function decodeUserSig(userSig: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(inflateSync(Buffer.from(unescapeBase64(userSig), 'base64')).toString('utf8'));
  } catch {
    throw new Error('UserSig is not a deflated JSON document');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error('UserSig is not a deflated JSON document');
  }
  return parsed as Record<string, unknown>;
}

function escapeBase64(base64: string): string {
  return base64.replace(/\+/g, '*').replace(/\//g, '-').replace(/=/g, '_');
}

function unescapeBase64(text: string): string {
  return text.replace(/\*/g, '+').replace(/-/g, '/').replace(/_/g, '=');
}
