/**
 * Registering the callback URL with the TIC service: shared by `npm run register-callback`
 * (after `sls deploy`) and by the local stack (`npm start`), so both do it the same way.
 */
import { ConfigError } from './config';
import type { SecretsSource } from './config';
import { getSecret, parseTicCredentials, SECRET_NAMES } from './secrets';
import { createTicClient } from './tic/client';
import { TIC_DEFAULT_BASE_URL } from './tic/wire';

const CALLBACK_ROUTE = '/tic/callback/';

export type CallbackTarget = { kind: 'api'; apiUrl: string } | { kind: 'url'; url: string } | { kind: 'remove' };

export interface RegisterCallbackResult {
  action: 'registered' | 'removed';
  /** The URL with its secret path segment masked, safe to print. */
  maskedUrl: string;
  random: number;
}

/** Replaces the secret segment of a callback URL by `***`. */
export function maskCallbackUrl(url: string): string {
  const index = url.indexOf(CALLBACK_ROUTE);
  if (index < 0) return url.replace(/\/[^/]*$/, '/***');
  return `${url.slice(0, index + CALLBACK_ROUTE.length)}***`;
}

export async function registerCallback(input: {
  env: Readonly<Record<string, string | undefined>>;
  target: CallbackTarget;
}): Promise<RegisterCallbackResult> {
  const { env, target } = input;
  const sdkappid = Number(env.TIC_SDKAPPID);
  if (!Number.isSafeInteger(sdkappid) || sdkappid <= 0) throw new ConfigError('TIC_SDKAPPID', 'must be set to the app id');
  const source: SecretsSource =
    env.SECRETS_SOURCE === 'env' ? { kind: 'env' } : { kind: 'ssm', prefix: env.SSM_PREFIX ?? '/tic-recording/dev', maxAgeSeconds: 60 };
  const credentials = parseTicCredentials(await getSecret(source, SECRET_NAMES.ticKey, env));
  let url = '';
  if (target.kind === 'url') url = target.url;
  if (target.kind === 'api') {
    const secret = await getSecret(source, SECRET_NAMES.callbackSecret, env);
    url = `${target.apiUrl.replace(/\/+$/, '')}${CALLBACK_ROUTE}${encodeURIComponent(secret)}`;
  }
  if (target.kind !== 'remove' && !/^https?:\/\//.test(url)) throw new ConfigError('--url', 'must be an http(s) URL');
  const client = createTicClient({ baseUrl: env.TIC_BASE_URL || TIC_DEFAULT_BASE_URL, sdkappid, credentials });
  const { random } = await client.setCallback(url);
  return { action: target.kind === 'remove' ? 'removed' : 'registered', maskedUrl: target.kind === 'remove' ? '(none)' : maskCallbackUrl(url), random };
}
