/**
 * `npm run emulator -- --port 4100 --sdkappid 1400127115 --tic-key ...`
 *
 * Flags are listed in emulator/README.md; a bad flag prints why and exits with 2.
 */
import { parseArgs } from 'node:util';
import { startEmulator } from './index';
import type { EmulatorOptions } from './options';

const USAGE = `usage: npm run emulator -- [--host 127.0.0.1] [--port 4100] [--sdkappid N] [--tic-key KEY]
  [--trial-sign SIGN --trial-expire-time SECONDS] [--start-delay-ms 2000] [--stop-delay-ms 2000]
  [--processing-delay-ms 1000] [--callback-retry-interval-ms 60000] [--callback-max-retries 10]
  [--callback-timeout-ms 3000] [--idle-stop-ms 300000] [--max-future-seconds N] [--seed 1]
  [--check-user-sig] [--max-body-bytes 65536] [--public-url URL]`;

/** Flags whose value is a number, with the option each sets. */
const NUMBER_FLAGS = {
  port: 'port',
  sdkappid: 'sdkappid',
  'trial-expire-time': 'trialExpireTime',
  'start-delay-ms': 'startDelayMs',
  'stop-delay-ms': 'stopDelayMs',
  'processing-delay-ms': 'processingDelayMs',
  'callback-retry-interval-ms': 'callbackRetryIntervalMs',
  'callback-max-retries': 'callbackMaxRetries',
  'callback-timeout-ms': 'callbackTimeoutMs',
  'idle-stop-ms': 'idleStopMs',
  'max-future-seconds': 'maxFutureSeconds',
  seed: 'seed',
  'max-body-bytes': 'maxBodyBytes',
} as const satisfies Record<string, keyof EmulatorOptions>;

const STRING_FLAGS = { host: 'host', 'tic-key': 'ticKey', 'trial-sign': 'trialSign', 'public-url': 'publicUrl' } as const satisfies Record<
  string,
  keyof EmulatorOptions
>;

function fail(message: string): never {
  process.stderr.write(`emulator: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function parseOptions(argv: string[]): EmulatorOptions {
  const flagSpec = Object.fromEntries([
    ...Object.keys(NUMBER_FLAGS).map((flag) => [flag, { type: 'string' as const }]),
    ...Object.keys(STRING_FLAGS).map((flag) => [flag, { type: 'string' as const }]),
    ['check-user-sig', { type: 'boolean' as const }],
    ['help', { type: 'boolean' as const, short: 'h' }],
  ]);
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: argv, options: flagSpec, strict: true, allowPositionals: false }).values as typeof values;
  } catch (error) {
    fail((error as Error).message);
  }
  if (values['help']) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const options: Record<string, unknown> = { checkUserSig: values['check-user-sig'] === true };
  for (const [flag, option] of Object.entries(NUMBER_FLAGS)) {
    const raw = values[flag];
    if (typeof raw !== 'string') continue;
    if (!/^-?[0-9]+$/.test(raw)) fail(`--${flag}: expected an integer, got "${raw}"`);
    options[option] = Number(raw);
  }
  for (const [flag, option] of Object.entries(STRING_FLAGS)) {
    if (typeof values[flag] === 'string') options[option] = values[flag];
  }
  return options as EmulatorOptions;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  let emulator;
  try {
    emulator = await startEmulator(options);
  } catch (error) {
    fail((error as Error).message);
  }
  process.stdout.write(`TIC recording emulator listening on ${emulator.url} (sdkappid ${emulator.options.sdkappid})\n`);
  const shutdown = () => {
    void emulator.close().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

void main();
