/**
 * Settings of the TIC recording emulator, shared by the CLI and `startEmulator`.
 *
 * Every time is in milliseconds except where the name says seconds. Defaults follow the
 * vendor document where it gives a number (2 s start and stop, callbacks retried once a
 * minute up to 10 times) and are otherwise plausible guesses, listed in emulator/README.md.
 */

/** The vendor document's example sdkappid and TicKey (section 3): public, not a secret. */
export const DOC_EXAMPLE_SDKAPPID = 1400127115;
export const DOC_EXAMPLE_TIC_KEY = '9016607A382749C69D4F4B00C61DD083';

export interface EmulatorOptions {
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Port; `0` (the default) picks a free one. */
  port?: number;
  /** The one sdkappid for which the service is "enabled"; any other gets 20000. */
  sdkappid?: number;
  /** The TicKey signs are checked against. */
  ticKey?: string;
  /** A trial account's fixed sign, accepted with `trialExpireTime` only (both or neither). */
  trialSign?: string;
  trialExpireTime?: number;
  /** From `start` to the recording actually beginning (vendor: "about 2 s"). */
  startDelayMs?: number;
  /** From `stop` to the recording actually ending (vendor: "about 2 s"). */
  stopDelayMs?: number;
  /** From the recording ending to `finished` (upload and transcoding). */
  processingDelayMs?: number;
  /** Between callback attempts (vendor: once a minute). */
  callbackRetryIntervalMs?: number;
  /** Retries after the first attempt (vendor: up to 10). */
  callbackMaxRetries?: number;
  /** How long one callback attempt, or the test request of `callback`, may take. */
  callbackTimeoutMs?: number;
  /** A recording room with no camera or screen published for this long is stopped. */
  idleStopMs?: number;
  /** If set, an `expire_time` further than this in the future is refused (20003). */
  maxFutureSeconds?: number;
  /** Seed of the random numbers behind the probabilistic faults. */
  seed?: number;
  /** Decode the TLS sig v2 `user_sig` and refuse an expired or foreign one (20003). */
  checkUserSig?: boolean;
  /** Largest request body accepted, bytes. */
  maxBodyBytes?: number;
  /** Base of the `video_url`s; default the emulator's own URL. */
  publicUrl?: string;
}

export type ResolvedOptions = Required<Omit<EmulatorOptions, 'trialSign' | 'trialExpireTime' | 'maxFutureSeconds' | 'publicUrl'>> &
  Pick<EmulatorOptions, 'trialSign' | 'trialExpireTime' | 'maxFutureSeconds' | 'publicUrl'>;

export const DEFAULT_OPTIONS: ResolvedOptions = {
  host: '127.0.0.1',
  port: 0,
  sdkappid: DOC_EXAMPLE_SDKAPPID,
  ticKey: DOC_EXAMPLE_TIC_KEY,
  startDelayMs: 2_000,
  stopDelayMs: 2_000,
  processingDelayMs: 1_000,
  callbackRetryIntervalMs: 60_000,
  callbackMaxRetries: 10,
  callbackTimeoutMs: 3_000,
  idleStopMs: 300_000,
  seed: 1,
  checkUserSig: false,
  maxBodyBytes: 64 * 1024,
};

/** Fills in defaults and refuses settings that make no sense, naming the setting. */
export function resolveOptions(options: EmulatorOptions): ResolvedOptions {
  const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  const resolved: ResolvedOptions = { ...DEFAULT_OPTIONS, ...defined };
  const nonNegative: (keyof ResolvedOptions)[] = [
    'port',
    'startDelayMs',
    'stopDelayMs',
    'processingDelayMs',
    'callbackRetryIntervalMs',
    'callbackMaxRetries',
    'callbackTimeoutMs',
    'idleStopMs',
  ];
  for (const name of nonNegative) {
    const value = resolved[name];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      throw new Error(`${name}: expected a non-negative integer`);
    }
  }
  if (!Number.isSafeInteger(resolved.sdkappid) || resolved.sdkappid <= 0) {
    throw new Error('sdkappid: expected a positive integer');
  }
  if (resolved.ticKey.length === 0) throw new Error('ticKey: expected a non-empty string');
  if ((resolved.trialSign === undefined) !== (resolved.trialExpireTime === undefined)) {
    throw new Error('trialSign and trialExpireTime: give both or neither');
  }
  if (resolved.maxFutureSeconds !== undefined && !(resolved.maxFutureSeconds > 0)) {
    throw new Error('maxFutureSeconds: expected a positive number');
  }
  if (!Number.isInteger(resolved.maxBodyBytes) || resolved.maxBodyBytes <= 0) {
    throw new Error('maxBodyBytes: expected a positive integer');
  }
  return resolved;
}
