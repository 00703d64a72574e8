/**
 * Secrets at run time: SSM Parameter Store (SecureString) on AWS, the environment on the local stack.
 *
 * Fetched on first use and cached for `maxAgeSeconds` (Powertools parameters), so a rotated
 * secret is picked up without a deploy, and never put in the Lambda environment or the
 * CloudFormation template (a `${ssm:…}` variable in serverless.yml would do both).
 * Every value fetched is registered with the log redactor (lib/logger.ts) as a safety net.
 */
import { getParameter } from '@aws-lambda-powertools/parameters/ssm';
import type { SecretsSource } from './config';
import { ConfigError } from './config';
import { registerSecret } from './logger';
import type { TicCredentials } from './tic/sign';

/** The secrets this backend uses; each function's IAM role may read only the ones it needs. */
export const SECRET_NAMES = {
  ticKey: 'tic-key',
  userSigSecretKey: 'usersig-secret-key',
  apiTokens: 'api-tokens',
  callbackSecret: 'callback-secret',
} as const;

export type SecretName = (typeof SECRET_NAMES)[keyof typeof SECRET_NAMES];

/** Environment variable of each secret on the local stack. */
const ENV_VARIABLE: Record<SecretName, string> = {
  'tic-key': 'TIC_KEY',
  'usersig-secret-key': 'USERSIG_SECRET_KEY',
  'api-tokens': 'API_TOKENS',
  'callback-secret': 'CALLBACK_SECRET',
};

/** Reads one secret; throws `ConfigError` naming the parameter or variable when it is missing. */
export async function getSecret(
  source: SecretsSource,
  name: SecretName,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<string> {
  let value: string | undefined;
  let where: string;
  if (source.kind === 'env') {
    where = ENV_VARIABLE[name];
    value = env[where]?.trim();
  } else {
    where = `${source.prefix}/${name}`;
    try {
      value = (await getParameter(where, { decrypt: true, maxAge: source.maxAgeSeconds }))?.trim();
    } catch (error) {
      // The SDK's message names the parameter, not its value; keep only the error's name.
      throw new ConfigError(where, `could not be read from SSM (${(error as Error).name})`);
    }
  }
  if (!value) throw new ConfigError(where, 'is required but empty or missing');
  registerSecret(value);
  return value;
}

/**
 * The bearer tokens accepted by the platform API: a comma-separated list. An entry may be
 * `name:token`, so that logs and idempotency keys can name the caller without the token.
 */
export interface ApiToken {
  callerId: string;
  token: string;
}

export function parseApiTokens(raw: string): ApiToken[] {
  const tokens = raw
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry, index) => {
      const colon = entry.indexOf(':');
      return colon > 0
        ? { callerId: entry.slice(0, colon), token: entry.slice(colon + 1) }
        : { callerId: `caller-${index + 1}`, token: entry };
    });
  const MIN_TOKEN_LENGTH = 16;
  for (const { callerId, token } of tokens) {
    if (token.length < MIN_TOKEN_LENGTH) {
      throw new ConfigError(SECRET_NAMES.apiTokens, `entry "${callerId}" is shorter than ${MIN_TOKEN_LENGTH} characters`);
    }
  }
  if (tokens.length === 0) throw new ConfigError(SECRET_NAMES.apiTokens, 'holds no token');
  return tokens;
}

/**
 * The TIC credentials held in the `tic-key` secret: either the 32-character TicKey, or, for a
 * trial account that has no TicKey, the fixed pair it was given, as JSON
 * `{"sign":"…","expire_time":1557202745}` (vendor document section 3, last note).
 */
export function parseTicCredentials(raw: string): TicCredentials {
  const value = raw.trim();
  if (!value.startsWith('{')) return { mode: 'key', ticKey: value };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new ConfigError(SECRET_NAMES.ticKey, 'looks like JSON but does not parse');
  }
  const { sign, expire_time: expireTime } = (parsed ?? {}) as { sign?: unknown; expire_time?: unknown };
  if (typeof sign !== 'string' || !/^[0-9a-f]{32}$/i.test(sign) || typeof expireTime !== 'number' || !Number.isSafeInteger(expireTime)) {
    throw new ConfigError(SECRET_NAMES.ticKey, 'trial form must be {"sign": 32 hex chars, "expire_time": Unix seconds}');
  }
  return { mode: 'trial', sign, expireTime };
}
