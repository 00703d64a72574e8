/**
 * Cold start cost of each bundle: fresh `node` processes, each importing one bundle (module
 * init builds the function's clients, as a Lambda container's init does), with the environment
 * the function needs and endpoints that point at nothing. The probe (cold-start-probe.mjs)
 * reports the import time; the parent also times the whole process, from spawn to exit, and
 * subtracts the same for an empty module (the bare `node` start).
 *
 * Runs are interleaved (rep → function → variant, variant order alternating) so that the
 * machine's noise falls on every variant alike.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { BundleResult, SdkVariant } from './bundles';
import { OUT_DIR, REPO_DIR } from './paths';
import { median, p90 } from './stats';

const run = promisify(execFile);
const PROBE = path.join(REPO_DIR, 'bench', 'cold-start-probe.mjs');
const EMPTY_MODULE = path.join(OUT_DIR, 'empty.mjs');
// Nothing listens on the discard port: a client that tried to connect at init would fail loudly.
const NOWHERE = 'http://127.0.0.1:9';
const PROBE_TIMEOUT_MS = 30_000;

/** The environment of a function container, as Lambda and serverless.yml set it, secrets as dummies. */
export function functionEnvironment(functionName: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    // What Lambda sets in every container (the SDK and Powertools read some of them).
    AWS_REGION: 'eu-west-1',
    AWS_DEFAULT_REGION: 'eu-west-1',
    AWS_LAMBDA_FUNCTION_NAME: `tic-recording-bench-${functionName}`,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_SESSION_TOKEN: 'bench',
    // serverless.yml's provider.environment.
    TABLE_NAME: 'tic-recording-bench-tasks',
    CHECK_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/000000000000/tic-recording-bench-checks',
    TIC_BASE_URL: NOWHERE,
    TIC_SDKAPPID: '1400127115',
    SSM_PREFIX: '/tic-recording/bench',
    POWERTOOLS_SERVICE_NAME: 'tic-recording-bench',
    POWERTOOLS_METRICS_NAMESPACE: 'TicRecording',
    LOG_LEVEL: 'INFO',
    // Local overrides: secrets from the environment, endpoints that lead nowhere.
    SECRETS_SOURCE: 'env',
    TIC_KEY: '9016607A382749C69D4F4B00C61DD083',
    USERSIG_SECRET_KEY: 'bench-usersig-secret-key-not-a-real-one',
    API_TOKENS: 'bench:bench-token-0123456789abcdef',
    CALLBACK_SECRET: 'bench-callback-secret',
    DYNAMODB_ENDPOINT: NOWHERE,
    SQS_ENDPOINT: NOWHERE,
    // The SDK warns at client construction on Node 20 (Lambda runs 22): keep the warning out of the timing.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

interface ProbeAnswer {
  importMs: number;
  sinceProcessStartMs: number;
  connections: number;
  exportsHandler: boolean;
}

interface Sample extends ProbeAnswer {
  /** Spawn to exit, as the parent saw it. */
  processMs: number;
}

async function probe(file: string, env: NodeJS.ProcessEnv): Promise<Sample> {
  const began = performance.now();
  const { stdout } = await run(process.execPath, [PROBE, file], { env, cwd: REPO_DIR, timeout: PROBE_TIMEOUT_MS });
  const processMs = performance.now() - began;
  return { ...(JSON.parse(stdout) as ProbeAnswer), processMs };
}

export interface ColdStartResult {
  functionName: string;
  variant: SdkVariant;
  runs: number;
  importMedianMs: number;
  importP90Ms: number;
  /** Process spawn-to-exit minus the empty module's median. */
  processOverBaselineMedianMs: number;
  processOverBaselineP90Ms: number;
  readyMedianMs: number;
  /** TCP connections opened during init, over all runs (must be 0). */
  connections: number;
}

export interface ColdStartReport {
  runsPerCell: number;
  baseline: { importMedianMs: number; processMedianMs: number; readyMedianMs: number };
  results: ColdStartResult[];
}

/** Measures every bundle `runs` times in fresh processes. */
export async function measureColdStarts(bundles: readonly BundleResult[], runs: number, log: (line: string) => void): Promise<ColdStartReport> {
  writeFileSync(EMPTY_MODULE, 'export const handler = async () => undefined;\n');
  const baselineEnv = functionEnvironment('baseline');
  const baseline: Sample[] = [];
  const samples = new Map<BundleResult, Sample[]>(bundles.map((bundle) => [bundle, []]));
  const functionNames = [...new Set(bundles.map((bundle) => bundle.functionName))];
  for (let rep = 0; rep < runs; rep += 1) {
    baseline.push(await probe(EMPTY_MODULE, baselineEnv));
    for (const functionName of functionNames) {
      const cells = bundles.filter((bundle) => bundle.functionName === functionName);
      if (rep % 2 === 1) cells.reverse();
      for (const bundle of cells) {
        const sample = await probe(bundle.file, functionEnvironment(functionName));
        if (!sample.exportsHandler) throw new Error(`${bundle.file} exports no handler`);
        samples.get(bundle)?.push(sample);
      }
    }
    log(`cold start: ${rep + 1}/${runs} rounds`);
  }
  const baselineProcessMs = median(baseline.map((sample) => sample.processMs));
  return {
    runsPerCell: runs,
    baseline: {
      importMedianMs: median(baseline.map((sample) => sample.importMs)),
      processMedianMs: baselineProcessMs,
      readyMedianMs: median(baseline.map((sample) => sample.sinceProcessStartMs)),
    },
    results: bundles.map((bundle) => {
      const cell = samples.get(bundle) ?? [];
      const over = cell.map((sample) => sample.processMs - baselineProcessMs);
      return {
        functionName: bundle.functionName,
        variant: bundle.variant,
        runs: cell.length,
        importMedianMs: median(cell.map((sample) => sample.importMs)),
        importP90Ms: p90(cell.map((sample) => sample.importMs)),
        processOverBaselineMedianMs: median(over),
        processOverBaselineP90Ms: p90(over),
        readyMedianMs: median(cell.map((sample) => sample.sinceProcessStartMs)),
        connections: cell.reduce((sum, sample) => sum + sample.connections, 0),
      };
    }),
  };
}

export interface SdkImportResult {
  /** A package, or "all of them" for one module importing every one. */
  module: string;
  importMedianMs: number;
  importP90Ms: number;
}

/**
 * Why the variants differ: the import time of each `@aws-sdk/*` package the external bundles
 * leave to the runtime, loaded from node_modules as the runtime's copy would be, alone and all
 * together, in fresh processes.
 */
export async function measureSdkImports(packages: readonly string[], runs: number): Promise<SdkImportResult[]> {
  const directory = path.join(OUT_DIR, 'sdk');
  mkdirSync(directory, { recursive: true });
  const modules = [...packages.map((name) => [name, [name]] as const), ['all of them', packages] as const];
  const files = modules.map(([name, imports]) => {
    const file = path.join(directory, `${name.replace(/[^a-z0-9]+/gi, '-')}.mjs`);
    writeFileSync(file, `${imports.map((specifier) => `import '${specifier}';`).join('\n')}\nexport const handler = async () => undefined;\n`);
    return file;
  });
  const samples = modules.map(() => [] as number[]);
  const env = functionEnvironment('sdk');
  for (let rep = 0; rep < runs; rep += 1) {
    for (const [index, file] of files.entries()) samples[index]?.push((await probe(file, env)).importMs);
  }
  return modules.map(([name], index) => ({
    module: name,
    importMedianMs: median(samples[index] ?? []),
    importP90Ms: p90(samples[index] ?? []),
  }));
}
