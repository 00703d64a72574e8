/**
 * Configuration of the deployed functions, read once at cold start from the environment.
 *
 * Fails fast: a missing or malformed setting throws `ConfigError` naming the variable,
 * so a misconfigured deployment fails on its first invocation with a readable message.
 * Secrets are not here: they are fetched at run time by `lib/secrets.ts`.
 */
import type { RecordingSettings } from './recording/settings';
import { TIC_DEFAULT_BASE_URL } from './tic/wire';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly variable: string, problem: string) {
    super(`configuration: ${variable} ${problem}`);
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** Where the secrets come from: SSM Parameter Store on AWS, the environment on the local stack. */
export type SecretsSource = { kind: 'ssm'; prefix: string; maxAgeSeconds: number } | { kind: 'env' };

export interface AppConfig {
  tableName: string;
  checkQueueUrl: string;
  /** Endpoint overrides for the local stack (DynamoDB Local, fauxqs); undefined on AWS. */
  dynamoEndpoint: string | undefined;
  sqsEndpoint: string | undefined;
  tic: {
    baseUrl: string;
    sdkappid: number;
    timeoutMs: number;
  };
  secrets: SecretsSource;
  /** How far in the future a callback's `expire_time` may lie before it is refused (CONTRACT.md "Security reading"). */
  callbackMaxFutureSeconds: number;
  /**
   * Overrides of the recording domain's timings (lib/recording/settings.ts), one environment
   * variable each, in whole seconds; unset ones keep the domain's defaults.
   */
  recordingSettings: Partial<RecordingSettings>;
}

const DEFAULT_TIC_TIMEOUT_MS = 5_000;
const DEFAULT_SECRETS_MAX_AGE_SECONDS = 300;
const DEFAULT_CALLBACK_MAX_FUTURE_SECONDS = 24 * 60 * 60;

/** The environment variable of each overridable recording setting. */
const RECORDING_SETTING_VARIABLES: Readonly<Record<keyof RecordingSettings, string>> = {
  startCheckDelaySeconds: 'START_CHECK_DELAY_SECONDS',
  stopCheckDelaySeconds: 'STOP_CHECK_DELAY_SECONDS',
  checkBackoffFactor: 'CHECK_BACKOFF_FACTOR',
  startDeadlineSeconds: 'START_DEADLINE_SECONDS',
  finishDeadlineSeconds: 'FINISH_DEADLINE_SECONDS',
  maxRecordingSeconds: 'MAX_RECORDING_SECONDS',
  sweepGraceSeconds: 'SWEEP_GRACE_SECONDS',
  retentionSeconds: 'RETENTION_SECONDS',
  idempotencyRetentionSeconds: 'IDEMPOTENCY_RETENTION_SECONDS',
  userSigLifetimeSeconds: 'USER_SIG_LIFETIME_SECONDS',
};

function required(env: Env, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new ConfigError(name, 'is required but not set');
  return value;
}

function optional(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function integer(env: Env, name: string, fallback: number, min = 0): number {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) throw new ConfigError(name, `must be a whole number ≥ ${min}`);
  return value;
}

function url(env: Env, name: string, fallback?: string): string {
  const raw = optional(env, name) ?? fallback;
  if (raw === undefined) throw new ConfigError(name, 'is required but not set');
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, 'must be an absolute URL');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new ConfigError(name, 'must be an http(s) URL');
  return raw.replace(/\/+$/, '');
}

function secretsSource(env: Env): SecretsSource {
  const kind = optional(env, 'SECRETS_SOURCE') ?? 'ssm';
  if (kind === 'env') return { kind: 'env' };
  if (kind !== 'ssm') throw new ConfigError('SECRETS_SOURCE', `must be "ssm" or "env", got "${kind}"`);
  const prefix = required(env, 'SSM_PREFIX');
  if (!prefix.startsWith('/')) throw new ConfigError('SSM_PREFIX', 'must start with "/"');
  return {
    kind: 'ssm',
    prefix: prefix.replace(/\/+$/, ''),
    maxAgeSeconds: integer(env, 'SECRETS_MAX_AGE_SECONDS', DEFAULT_SECRETS_MAX_AGE_SECONDS, 1),
  };
}

function recordingSettings(env: Env): Partial<RecordingSettings> {
  const settings: Partial<RecordingSettings> = {};
  for (const [key, variable] of Object.entries(RECORDING_SETTING_VARIABLES) as [keyof RecordingSettings, string][]) {
    if (optional(env, variable) !== undefined) settings[key] = integer(env, variable, 0, key === 'checkBackoffFactor' ? 1 : 0);
  }
  return settings;
}

/** Reads and validates the whole configuration; throws `ConfigError` on the first bad setting. */
export function loadConfig(env: Env = process.env): AppConfig {
  const sdkappid = integer(env, 'TIC_SDKAPPID', 0, 1);
  if (sdkappid === 0) throw new ConfigError('TIC_SDKAPPID', 'is required but not set');
  return {
    tableName: required(env, 'TABLE_NAME'),
    checkQueueUrl: url(env, 'CHECK_QUEUE_URL'),
    dynamoEndpoint: optional(env, 'DYNAMODB_ENDPOINT') && url(env, 'DYNAMODB_ENDPOINT'),
    sqsEndpoint: optional(env, 'SQS_ENDPOINT') && url(env, 'SQS_ENDPOINT'),
    tic: {
      baseUrl: url(env, 'TIC_BASE_URL', TIC_DEFAULT_BASE_URL),
      sdkappid,
      timeoutMs: integer(env, 'TIC_TIMEOUT_MS', DEFAULT_TIC_TIMEOUT_MS, 1),
    },
    secrets: secretsSource(env),
    callbackMaxFutureSeconds: integer(env, 'CALLBACK_MAX_FUTURE_SECONDS', DEFAULT_CALLBACK_MAX_FUTURE_SECONDS, 1),
    recordingSettings: recordingSettings(env),
  };
}
