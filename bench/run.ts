/**
 * `npm run bench`: the figures behind BENCHMARKS.md ("Prove it"). It prints tables; it asserts
 * no timing. Parts:
 * 1. bundle size of every function, @aws-sdk/* left to the runtime and bundled (bundles.ts);
 * 2. cold start of every bundle in fresh `node` processes (cold-start.ts);
 * 3. the callback handler's time per callback against the bare UpdateItem (callback-overhead.ts);
 * 4. vendor calls, DynamoDB and SQS work per recording, callbacks on time and lost (per-recording.ts);
 * 5. cost per 1,000 recordings on list prices (cost.ts).
 *
 * Options: --quick (few repetitions, timings scaled down: for trying it out), --cold-runs N,
 * --callback-rounds N, --recordings N, --parts 1,2,3,4 (5 follows 4).
 * Writes the tables to bench/.out/report.md and the raw figures to bench/.out/results.json.
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildBundles, BUNDLE_BUDGET_BYTES, esbuildOptionsFor, type BundleResult } from './bundles';
import { runPart } from './child';
import { measureColdStarts, measureSdkImports, type ColdStartReport, type SdkImportResult } from './cold-start';
import { costPerThousand, formatUsd, PRICES, type RecordingCounts } from './cost';
import { OUT_DIR } from './paths';
import { fixed, kib, median, table } from './stats';

const { values: options } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'cold-runs': { type: 'string' },
    'callback-rounds': { type: 'string' },
    recordings: { type: 'string' },
    parts: { type: 'string', default: '1,2,3,4' },
  },
});
const quick = options.quick ?? false;
const coldRuns = Number(options['cold-runs'] ?? (quick ? 3 : 20));
const callbackRounds = Number(options['callback-rounds'] ?? (quick ? 30 : 300));
const callbackWarmupRounds = Math.max(5, Math.round(callbackRounds / 10));
const recordings = Number(options.recordings ?? (quick ? 4 : 20));
const parts = new Set((options.parts ?? '').split(',').map((part) => part.trim()));

/** Targets of the issue "Prove it". */
const TARGETS = {
  callbackRatio: 1.3,
  withCallbacks: { start: 1, stop: 1, query: 0, maxWrites: 6, maxMessages: 2 },
  withoutCallbacks: { maxQueries: 5 },
} as const;

const report: string[] = [];
const results: Record<string, unknown> = {};
const summary: string[][] = [];

function out(text = ''): void {
  console.log(text);
  report.push(text);
}

function progress(line: string): void {
  process.stderr.write(`  … ${line}\n`);
}

function machine(): Record<string, string> {
  const cpuModel = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? 'unknown';
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    // Not a git checkout: leave it unknown.
  }
  return {
    date: new Date().toISOString(),
    cpus: String(cpus().length),
    cpuModel,
    node: process.version,
    commit,
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
  };
}

function yes(met: boolean): string {
  return met ? 'yes' : '**no**';
}

// ---- 1. bundle sizes -------------------------------------------------------------------------

function reportBundles(bundles: BundleResult[]): void {
  const { excluded } = esbuildOptionsFor('external');
  out('## 1. Bundle size per function (minified, esbuild options of serverless.yml custom.esbuild)');
  out();
  out(`"external": ${excluded.join(', ')} left to the Lambda runtime; "bundled": everything in the file (as deployed). Deflated ≈ what the zip holds.`);
  out();
  const functionNames = [...new Set(bundles.map((bundle) => bundle.functionName))];
  const rows = functionNames.map((functionName) => {
    const external = bundles.find((bundle) => bundle.functionName === functionName && bundle.variant === 'external');
    const bundled = bundles.find((bundle) => bundle.functionName === functionName && bundle.variant === 'bundled');
    const within = (bundle?: BundleResult) => (bundle === undefined ? 'n/a' : bundle.minifiedBytes < BUNDLE_BUDGET_BYTES ? 'yes' : 'no');
    return [
      functionName,
      external ? kib(external.minifiedBytes) : 'n/a',
      external ? kib(external.deflatedBytes) : 'n/a',
      within(external),
      bundled ? kib(bundled.minifiedBytes) : 'n/a',
      bundled ? kib(bundled.deflatedBytes) : 'n/a',
      within(bundled),
    ];
  });
  out(table(['function', 'external min.', 'external deflated', '< 150 KB', 'bundled min.', 'bundled deflated', '< 150 KB'], rows));
  out();
  for (const variant of ['external', 'bundled'] as const) {
    const largest = bundles.filter((bundle) => bundle.variant === variant).sort((a, b) => b.minifiedBytes - a.minifiedBytes)[0];
    if (largest === undefined) continue;
    const top = largest.byPackage.slice(0, 6).map((entry) => `${entry.name} ${kib(entry.bytes)}`).join(', ');
    out(`Largest ${variant} bundle (${largest.functionName}), by package: ${top}.`);
  }
  out();
  const externalMax = Math.max(...bundles.filter((bundle) => bundle.variant === 'external').map((bundle) => bundle.minifiedBytes));
  const bundledMax = Math.max(...bundles.filter((bundle) => bundle.variant === 'bundled').map((bundle) => bundle.minifiedBytes));
  summary.push(['each bundle < 150 KB minified (SDK external)', '< 150 KB', `max ${kib(externalMax)}`, yes(externalMax < BUNDLE_BUDGET_BYTES)]);
  summary.push(['each bundle < 150 KB minified (SDK bundled)', '< 150 KB', `max ${kib(bundledMax)}`, yes(bundledMax < BUNDLE_BUDGET_BYTES)]);
}

// ---- 2. cold start ---------------------------------------------------------------------------

function reportColdStarts(cold: ColdStartReport, sdkImports: SdkImportResult[]): void {
  out(`## 2. Cold start per function (${cold.runsPerCell} fresh node processes per cell, interleaved)`);
  out();
  out(
    `import = performance.now() around import() of the bundle in the child (module init builds the clients); ` +
      `process − baseline = spawn-to-exit seen by the parent minus the same for an empty module (median ${fixed(cold.baseline.processMedianMs)} ms; ` +
      `bare node ready after ${fixed(cold.baseline.readyMedianMs)} ms).`,
  );
  out();
  const functionNames = [...new Set(cold.results.map((result) => result.functionName))];
  const cell = (functionName: string, variant: string) =>
    cold.results.find((result) => result.functionName === functionName && result.variant === variant);
  const rows = functionNames.map((functionName) => {
    const external = cell(functionName, 'external');
    const bundled = cell(functionName, 'bundled');
    const faster = external && bundled ? (external.importMedianMs <= bundled.importMedianMs ? 'external' : 'bundled') : 'n/a';
    return [
      functionName,
      external ? `${fixed(external.importMedianMs)} / ${fixed(external.importP90Ms)}` : 'n/a',
      bundled ? `${fixed(bundled.importMedianMs)} / ${fixed(bundled.importP90Ms)}` : 'n/a',
      external ? `${fixed(external.processOverBaselineMedianMs)} / ${fixed(external.processOverBaselineP90Ms)}` : 'n/a',
      bundled ? `${fixed(bundled.processOverBaselineMedianMs)} / ${fixed(bundled.processOverBaselineP90Ms)}` : 'n/a',
      faster,
    ];
  });
  out(table(['function', 'external import ms (median / p90)', 'bundled import ms', 'external process − baseline ms', 'bundled process − baseline ms', 'faster'], rows));
  out();
  const connections = cold.results.reduce((sum, result) => sum + result.connections, 0);
  out(`TCP connections opened during init, all runs: ${connections} (init must make no network call).`);
  out();
  out('Why: the external variant loads each SDK package whole from node_modules (every command of the client, each @smithy dependency a file of its own), the bundle only what the code uses. Import of the packages alone, from node_modules:');
  out();
  out(table(['module', 'import ms (median / p90)'], sdkImports.map((entry) => [entry.module, `${fixed(entry.importMedianMs)} / ${fixed(entry.importP90Ms)}`])));
  out();
  const externalMedian = median(cold.results.filter((result) => result.variant === 'external').map((result) => result.importMedianMs));
  const bundledMedian = median(cold.results.filter((result) => result.variant === 'bundled').map((result) => result.importMedianMs));
  const fasterVariant = externalMedian <= bundledMedian ? 'external' : 'bundled';
  out(
    `Across functions, median import: external ${fixed(externalMedian)} ms, bundled ${fixed(bundledMedian)} ms → ` +
      `${fasterVariant} cold-starts faster by ${fixed(Math.abs(externalMedian - bundledMedian))} ms ` +
      `(${fixed((Math.max(externalMedian, bundledMedian) / Math.min(externalMedian, bundledMedian) - 1) * 100, 0)}%).`,
  );
  out();
  summary.push(['init makes no network call', '0 connections', String(connections), yes(connections === 0)]);
  summary.push([
    'SDK variant that cold-starts faster',
    'measure, pick',
    `${fasterVariant} (median import ${fixed(Math.min(externalMedian, bundledMedian))} vs ${fixed(Math.max(externalMedian, bundledMedian))} ms)`,
    '—',
  ]);
  results.coldStartDecision = { externalMedian, bundledMedian, fasterVariant };
}

// ---- 3. callback handler vs bare UpdateItem -----------------------------------------------------

interface ArmSummary {
  started: { medianMs: number; p90Ms: number; count: number };
  finished: { medianMs: number; p90Ms: number; count: number };
  all: { medianMs: number; p90Ms: number; count: number };
}
interface CallbackOverhead {
  rounds: number;
  warmupRounds: number;
  handler: ArmSummary;
  bareNone: ArmSummary;
  bareAllNew: ArmSummary;
}

function reportCallbackOverhead(result: CallbackOverhead, logBytes: number, logLines: number): void {
  out(`## 3. Callback handler vs the bare DynamoDB write (DynamoDB Local, ${result.rounds} rounds after ${result.warmupRounds} warm-up, interleaved)`);
  out();
  const row = (name: string, arm: ArmSummary) => [
    name,
    `${fixed(arm.started.medianMs, 2)} / ${fixed(arm.started.p90Ms, 2)}`,
    `${fixed(arm.finished.medianMs, 2)} / ${fixed(arm.finished.p90Ms, 2)}`,
    `${fixed(arm.all.medianMs, 2)} / ${fixed(arm.all.p90Ms, 2)}`,
    fixed(arm.all.medianMs / result.bareNone.all.medianMs, 2),
  ];
  out(
    table(
      ['arm', 'record_started ms (median / p90)', 'record_finished ms', 'both ms', '× bare'],
      [
        row('(a) handler, in-process, signed event', result.handler),
        row('(b) bare conditional UpdateItem, ReturnValues NONE', result.bareNone),
        row('(c) same UpdateItem, ReturnValues ALL_NEW (as the store sends it)', result.bareAllNew),
      ],
    ),
  );
  out();
  const ratio = result.handler.all.medianMs / result.bareNone.all.medianMs;
  const ratioStarted = result.handler.started.medianMs / result.bareNone.started.medianMs;
  const ratioFinished = result.handler.finished.medianMs / result.bareNone.finished.medianMs;
  out(
    `Ratio handler / bare (medians): ${fixed(ratio, 2)}× over both callbacks (record_started ${fixed(ratioStarted, 2)}×, record_finished ${fixed(ratioFinished, 2)}×); ` +
      `handler overhead ${fixed(result.handler.all.medianMs - result.bareNone.all.medianMs, 2)} ms per callback. ` +
      `Log output of the handler (INFO): ${fixed(logBytes / Math.max(1, logLines), 0)} bytes per line, ${fixed(logLines / ((result.rounds + result.warmupRounds) * 2), 2)} lines per callback.`,
  );
  out();
  summary.push(['callback time / bare UpdateItem (medians)', `≤ ${TARGETS.callbackRatio}×`, `${fixed(ratio, 2)}×`, yes(ratio <= TARGETS.callbackRatio)]);
  results.callbackRatio = { ratio, ratioStarted, ratioFinished };
}

// ---- 4. per recording ------------------------------------------------------------------------

interface PerRecordingScenario {
  scenario: 'callbacks' | 'lost';
  recordings: number;
  wallSeconds: number;
  statuses: Record<string, number>;
  perRecording: Record<string, number>;
  functions: Record<string, { invocationsPerRecording: number; medianMs: number; billedMsPerRecording: number }>;
  vendorFinishedToFinal?: { medianMs: number; maxMs: number; count: number };
  pollIntervalSeconds: { median: number; min: number; max: number };
}
interface PerRecording {
  timing: string;
  settings: { emulator: Record<string, number>; startCheckDelaySeconds: number; stopCheckDelaySeconds: number; checkBackoffFactor: number; classMs: number };
  scenarios: PerRecordingScenario[];
}

const HTTP_FUNCTIONS = new Set(['startRecording', 'stopRecording', 'getRecording', 'listRoomRecordings', 'ticCallback']);

function countsOf(scenario: PerRecordingScenario): RecordingCounts {
  const functions = Object.entries(scenario.functions);
  const p = scenario.perRecording;
  return {
    lambdaInvocations: functions.reduce((sum, [, f]) => sum + f.invocationsPerRecording, 0),
    // Median duration per invocation (the first invocations of a process include one-off set-up).
    lambdaBilledMs: functions.reduce((sum, [, f]) => sum + f.invocationsPerRecording * Math.ceil(f.medianMs), 0),
    httpApiRequests: functions.filter(([name]) => HTTP_FUNCTIONS.has(name)).reduce((sum, [, f]) => sum + f.invocationsPerRecording, 0),
    writeUnits: p.withCapacity ? (p.writeUnits ?? 0) : (p.writeItems ?? 0),
    readUnits: p.withCapacity ? (p.readUnits ?? 0) : (p.reads ?? 0),
    messages: p.messages ?? 0,
    appLogBytes: p.logBytes ?? 0,
    appLogLines: p.logLines ?? 0,
  };
}

function reportPerRecording(result: PerRecording): void {
  const [withCallbacks, lost] = result.scenarios;
  if (withCallbacks === undefined || lost === undefined) throw new Error('per-recording: two scenarios expected');
  const s = result.settings;
  out(`## 4. Work per recording (${withCallbacks.recordings} recordings per scenario, in-process local stack, timings "${result.timing}")`);
  out();
  out(
    `Checks ${s.startCheckDelaySeconds} s after start and ${s.stopCheckDelaySeconds} s after stop (backoff ×${s.checkBackoffFactor}); ` +
      `emulator: recording begins ${s.emulator.startDelayMs} ms after start, ends ${s.emulator.stopDelayMs} ms after stop, finished ${s.emulator.processingDelayMs} ms later; class ${s.classMs} ms; start sent with an Idempotency-Key.`,
  );
  out();
  const metric = (name: string, key: string, digits = 2) => [
    name,
    fixed(withCallbacks.perRecording[key] ?? Number.NaN, digits),
    fixed(lost.perRecording[key] ?? Number.NaN, digits),
  ];
  const invocations = (scenario: PerRecordingScenario) =>
    Object.entries(scenario.functions)
      .map(([name, f]) => `${name} ${fixed(f.invocationsPerRecording, 2)}× ${fixed(f.medianMs, 1)} ms`)
      .join(', ');
  out(
    table(
      ['per recording', 'callbacks on time', 'all callbacks lost'],
      [
        metric('vendor start calls', 'start'),
        metric('vendor stop calls', 'stop'),
        metric('vendor query calls', 'query'),
        metric('callbacks delivered', 'callbacksDelivered'),
        metric('DynamoDB write requests (store.counters.writes)', 'writes'),
        metric('DynamoDB items written (writeItems)', 'writeItems'),
        metric('DynamoDB read requests', 'reads'),
        metric('DynamoDB write capacity units (table + GSIs)', 'writeUnits', 1),
        metric('… of which GSI write units', 'indexWriteUnits', 1),
        metric('DynamoDB read capacity units', 'readUnits', 1),
        metric('SQS messages sent (checkQueue.sent)', 'messages'),
        metric('log bytes written (INFO)', 'logBytes', 0),
        metric('log lines', 'logLines', 1),
        ['final statuses', JSON.stringify(withCallbacks.statuses), JSON.stringify(lost.statuses)],
      ],
    ),
  );
  out();
  out(`Lambda invocations × median duration, callbacks on time: ${invocations(withCallbacks)}.`);
  out(`All callbacks lost: ${invocations(lost)}.`);
  out();
  const lag = lost.vendorFinishedToFinal;
  const intervalMs = lost.pollIntervalSeconds.max * 1000;
  if (lag) {
    out(
      `All callbacks lost: vendor finished → our final state: median ${fixed(lag.medianMs / 1000, 2)} s, max ${fixed(lag.maxMs / 1000, 2)} s ` +
        `(${lag.count} recordings); the poll interval in force was ${lost.pollIntervalSeconds.min}–${lost.pollIntervalSeconds.max} s.`,
    );
    out();
  }
  const p = withCallbacks.perRecording;
  const q = lost.perRecording;
  const t = TARGETS.withCallbacks;
  summary.push(['with callbacks: vendor start / stop / query calls', `${t.start} / ${t.stop} / ${t.query}`, `${fixed(p.start ?? NaN, 2)} / ${fixed(p.stop ?? NaN, 2)} / ${fixed(p.query ?? NaN, 2)}`, yes(p.start === t.start && p.stop === t.stop && p.query === t.query)]);
  summary.push(['with callbacks: DynamoDB writes', `≤ ${t.maxWrites}`, `${fixed(p.writes ?? NaN, 2)} requests (${fixed(p.writeItems ?? NaN, 2)} items)`, yes((p.writes ?? Infinity) <= t.maxWrites)]);
  summary.push(['with callbacks: SQS messages', `≤ ${t.maxMessages}`, fixed(p.messages ?? NaN, 2), yes((p.messages ?? Infinity) <= t.maxMessages)]);
  summary.push(['callbacks lost: vendor query calls', `≤ ${TARGETS.withoutCallbacks.maxQueries}`, fixed(q.query ?? NaN, 2), yes((q.query ?? Infinity) <= TARGETS.withoutCallbacks.maxQueries)]);
  if (lag) {
    summary.push(['callbacks lost: vendor finished → final state', `≤ one poll interval (${lost.pollIntervalSeconds.max} s)`, `max ${fixed(lag.maxMs / 1000, 2)} s`, yes(lag.maxMs <= intervalMs)]);
  }
  const terminalOk = (scenario: PerRecordingScenario) => (scenario.statuses.finished ?? 0) === scenario.recordings;
  summary.push(['every recording finished', 'all', `${withCallbacks.statuses.finished ?? 0}/${withCallbacks.recordings} and ${lost.statuses.finished ?? 0}/${lost.recordings}`, yes(terminalOk(withCallbacks) && terminalOk(lost))]);
  reportCost(withCallbacks, lost);
}

// ---- 5. cost ---------------------------------------------------------------------------------

function reportCost(withCallbacks: PerRecordingScenario, lost: PerRecordingScenario): void {
  out(`## 5. Cost per 1,000 recordings (${PRICES.region}, ${PRICES.asOf}; free tiers ignored)`);
  out();
  for (const scenario of [withCallbacks, lost]) {
    const counts = countsOf(scenario);
    const { lines, totalUsd } = costPerThousand(counts);
    out(`${scenario.scenario === 'callbacks' ? 'Callbacks on time' : 'All callbacks lost'}:`);
    out();
    out(table(['item', 'arithmetic', 'USD'], [...lines.map((line) => [line.item, line.arithmetic, formatUsd(line.usd)]), ['**total**', '', `**${formatUsd(totalUsd)}**`]]));
    out();
    results[`cost_${scenario.scenario}`] = { counts, lines, totalUsd };
  }
}

// ---- main ------------------------------------------------------------------------------------

async function main(): Promise<void> {
  mkdirSync(OUT_DIR, { recursive: true });
  const about = machine();
  results.machine = about;
  out(`# Benchmark run ${about.date}`);
  out();
  out(`Machine: ${about.cpus} × ${about.cpuModel}, Node ${about.node}, commit ${about.commit}. Command: \`${about.command}\`${quick ? ' (quick: not for BENCHMARKS.md)' : ''}.`);
  out();

  let bundles: BundleResult[] = [];
  if (parts.has('1') || parts.has('2')) {
    progress('building bundles');
    bundles = await buildBundles();
    results.bundles = bundles.map(({ byPackage, ...rest }) => ({ ...rest, topPackages: byPackage.slice(0, 8) }));
    reportBundles(bundles);
  }
  if (parts.has('2')) {
    const cold = await measureColdStarts(bundles, coldRuns, progress);
    progress('SDK packages alone');
    const sdkPackages = [...new Set(bundles.flatMap((bundle) => bundle.externalImports))];
    const sdkImports = await measureSdkImports(sdkPackages, Math.max(3, Math.round(coldRuns / 2)));
    results.coldStart = cold;
    results.sdkImports = sdkImports;
    reportColdStarts(cold, sdkImports);
  }
  if (parts.has('3')) {
    progress('callback overhead (DynamoDB Local)');
    const { result, stdoutBytes, stdoutLines } = await runPart<CallbackOverhead>(
      'callback-overhead.ts',
      [String(callbackRounds), String(callbackWarmupRounds)],
      progress,
    );
    results.callbackOverhead = result;
    reportCallbackOverhead(result, stdoutBytes, stdoutLines);
  }
  if (parts.has('4')) {
    progress('per recording (in-process local stack)');
    const { result } = await runPart<PerRecording>('per-recording.ts', [String(recordings), quick ? 'quick' : 'full'], progress);
    results.perRecording = result;
    reportPerRecording(result);
  }

  out('## Targets');
  out();
  out(table(['target', 'wanted', 'measured', 'met?'], summary));
  out();
  writeFileSync(path.join(OUT_DIR, 'report.md'), `${report.join('\n')}\n`);
  writeFileSync(path.join(OUT_DIR, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  process.stderr.write(`  … tables in ${path.relative(process.cwd(), path.join(OUT_DIR, 'report.md'))}, raw figures in results.json\n`);
}

await main();
