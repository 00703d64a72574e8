/**
 * `npm run chaos`: hundreds of overlapping classes recorded through the whole local stack
 * (its own DynamoDB Local and fauxqs, the real handlers in this process, the TIC emulator)
 * while the emulator drops, duplicates and reorders callbacks and fails or hangs calls.
 * Prints a table and exits 1 if any recording was lost or ended wrong (scripts/chaos-scenario.ts).
 *
 *   npm run chaos -- [--recordings 500] [--concurrency 50] [--seed 1] [--log-level SILENT]
 */
import { parseArgs } from 'node:util';
import { startLocalStack } from '../local/stack';
import { chaosFailed, chaosStackOptions, formatChaosReport, FULL_RUN_TIMINGS, runChaos } from './chaos-scenario';

const USAGE = 'usage: npm run chaos -- [--recordings 500] [--concurrency 50] [--seed 1] [--log-level SILENT|ERROR|WARN|INFO]';

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) {
    console.error(`--${name} must be a positive integer, got "${raw}"\n${USAGE}`);
    process.exit(2);
  }
  return value;
}

async function main(): Promise<void> {
  // The SDK warns that its releases from 2027 need Node 22; this machine may run Node 20.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  let values: Record<string, string | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        recordings: { type: 'string' },
        concurrency: { type: 'string' },
        seed: { type: 'string' },
        'log-level': { type: 'string' },
      },
      strict: true,
    }) as { values: Record<string, string | undefined> });
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  const recordings = positiveInt('recordings', values.recordings, 500);
  const concurrency = positiveInt('concurrency', values.concurrency, 50);
  const seed = positiveInt('seed', values.seed, 1);
  const logLevel = values['log-level'] ?? 'SILENT';
  const log = (line: string) => console.log(`[chaos] ${line}`);

  log(`starting the stack (DynamoDB Local, fauxqs, TIC emulator, handlers in-process)…`);
  let handlerErrors = 0;
  const stack = await startLocalStack({
    mode: 'in-process',
    ...chaosStackOptions(FULL_RUN_TIMINGS, { seed, logLevel }),
    log: (line) => {
      // The gateway and the SQS bridge report what threw; the run counts it (a chaos run expects none).
      if (/threw|failed/.test(line)) {
        handlerErrors += 1;
        if (logLevel !== 'SILENT') log(line);
      }
    },
  });
  let exitCode = 1;
  try {
    log(`${recordings} recordings, ${concurrency} classes at once, seed ${seed}`);
    const report = await runChaos(stack, { recordings, concurrency, seed, timings: FULL_RUN_TIMINGS, log });
    console.log(formatChaosReport(report));
    console.log(`handler or bridge errors reported by the stack: ${handlerErrors}`);
    exitCode = chaosFailed(report) ? 1 : 0;
    console.log(exitCode === 0 ? 'chaos: every recording ended right' : 'chaos: FAILED');
  } finally {
    await stack.stop();
  }
  process.exit(exitCode);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
