/**
 * Part 4, run in its own process by bench/run.ts: what one recording costs in calls, through
 * the whole system on the in-process local stack (local/stack.ts: the real handlers behind the
 * HTTP gateway, the SQS bridge feeding the check worker, the emulator over HTTP, its own
 * DynamoDB Local and fauxqs), in two scenarios on the same stack:
 * - `callbacks`: the vendor's callbacks arrive on time;
 * - `lost`: every callback is lost (emulator fault `callbacks.dropRate = 1`): only the
 *   reconciler's checks (query) can finish the task.
 *
 * Each scenario runs R recordings side by side (a user on camera in each room; start with an
 * Idempotency-Key, a class of `classMs`, stop), waits until every task is terminal and the check queue is empty, and
 * reports per recording: vendor calls (emulator stats), DynamoDB requests (`store.counters`)
 * and capacity units (ConsumedCapacity, asked for by a middleware on the store's client), SQS
 * messages sent (`checkQueue.sent`), Lambda invocations and durations per function, log bytes
 * written; and, when callbacks are lost, the time from the vendor finishing to our final state.
 *
 * Usage: node --import tsx bench/per-recording.ts <result.json> <recordings> <quick|full>
 */
import { writeFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../local/aws-services';
import type { LambdaHandler } from '../local/http-gateway';
import { startLocalStack } from '../local/stack';
import { DEFAULT_RECORDING_SETTINGS } from '../lib/recording/settings';
import { progress } from './child';
import { median, sleep } from './stats';

const [resultFile, recordingsArg = '20', timingArg = 'full'] = process.argv.slice(2);
if (!resultFile || (timingArg !== 'quick' && timingArg !== 'full')) {
  throw new Error('usage: per-recording.ts <result.json> [recordings] [quick|full]');
}
const RECORDINGS = Number(recordingsArg);

/**
 * `full`: the deployed defaults (checks 10 s after start, 15 s after stop) against the
 * emulator's defaults, which follow the vendor document (recording begins ~2 s after start and
 * ends ~2 s after stop, then 1 s of processing). `quick`: both scaled down about tenfold, for
 * trying the benchmark out (SQS delays are whole seconds, so the checks cannot scale further).
 */
const TIMINGS = {
  full: {
    emulator: { startDelayMs: 2000, stopDelayMs: 2000, processingDelayMs: 1000 },
    functionEnv: {} as Record<string, string>,
    startCheckDelaySeconds: DEFAULT_RECORDING_SETTINGS.startCheckDelaySeconds,
    stopCheckDelaySeconds: DEFAULT_RECORDING_SETTINGS.stopCheckDelaySeconds,
    // Longer than the first start check, so that it sees the recording under way.
    classMs: 12_000,
  },
  quick: {
    emulator: { startDelayMs: 200, stopDelayMs: 200, processingDelayMs: 100 },
    functionEnv: { START_CHECK_DELAY_SECONDS: '1', STOP_CHECK_DELAY_SECONDS: '2' } as Record<string, string>,
    startCheckDelaySeconds: 1,
    stopCheckDelaySeconds: 2,
    classMs: 1_500,
  },
}[timingArg];

/** Recordings do not all start in the same millisecond: spread them like a timetable would. */
const START_SPACING_MS = 100;
const POLL_INTERVAL_MS = 200;
const SETTLE_TIMEOUT_MS = 180_000;
const ROOM_BASE = { callbacks: 10_000, lost: 20_000 } as const;

type Scenario = keyof typeof ROOM_BASE;

interface Invocations {
  count: number;
  durationsMs: number[];
}

const invocations = new Map<string, Invocations>();

/** Counts each handler invocation and times it, as Lambda would bill it. */
function timed(functionName: string, handler: LambdaHandler): LambdaHandler {
  return async (event: unknown, context: Context) => {
    const began = performance.now();
    try {
      return await handler(event, context);
    } finally {
      const entry = invocations.get(functionName) ?? { count: 0, durationsMs: [] };
      entry.count += 1;
      entry.durationsMs.push(performance.now() - began);
      invocations.set(functionName, entry);
    }
  };
}

// Log bytes per scenario: the functions log to stdout (INFO, as deployed); count what passes.
let stdoutBytes = 0;
let stdoutLines = 0;
const writeStdout = process.stdout.write.bind(process.stdout);
process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
  const bytes = typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
  stdoutBytes += bytes;
  for (const byte of typeof chunk === 'string' ? Buffer.from(chunk) : chunk) if (byte === 0x0a) stdoutLines += 1;
  return (writeStdout as (...args: unknown[]) => boolean)(chunk, ...rest);
}) as typeof process.stdout.write;

const stack = await startLocalStack({
  mode: 'in-process',
  emulator: { ...TIMINGS.emulator, callbackRetryIntervalMs: 60_000 },
  functionEnv: { LOG_LEVEL: 'INFO', ...TIMINGS.functionEnv },
  // The schedule's sweep only matters for lost checks; none are lost here.
  sweepIntervalMs: 10 * 60_000,
  wrapHandler: timed,
});

try {
  const { store, checkQueue } = await import('../lib/runtime');

  // Capacity units: ask DynamoDB for ConsumedCapacity on every request of the store's client.
  // (DynamoDB Local answers CapacityUnits for the table and each index touched.)
  const capacity = { writeUnits: 0, readUnits: 0, indexWriteUnits: 0, withCapacity: 0 };
  type Units = { CapacityUnits?: number };
  type Capacity = Units & { Table?: Units; GlobalSecondaryIndexes?: Record<string, Units> };
  const WRITE_COMMANDS = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'TransactWriteItemsCommand', 'BatchWriteItemCommand']);
  const storeClient = (store as unknown as { client: DynamoDBDocumentClient }).client;
  // Before the content length is set and the request signed (build step, high priority).
  storeClient.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { body?: unknown };
      const body = request.body instanceof Uint8Array ? new TextDecoder().decode(request.body) : request.body;
      if (typeof body === 'string' && body.startsWith('{')) {
        request.body = Buffer.from(JSON.stringify({ ...JSON.parse(body), ReturnConsumedCapacity: 'INDEXES' }), 'utf8');
      }
      return next(args);
    },
    { step: 'build', priority: 'high', name: 'benchAskConsumedCapacity' },
  );
  storeClient.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const consumed = (result.output as { ConsumedCapacity?: Capacity | Capacity[] }).ConsumedCapacity;
      const isWrite = WRITE_COMMANDS.has(String(context.commandName));
      for (const entry of consumed === undefined ? [] : Array.isArray(consumed) ? consumed : [consumed]) {
        capacity.withCapacity += 1;
        if (isWrite) capacity.writeUnits += entry.CapacityUnits ?? 0;
        else capacity.readUnits += entry.CapacityUnits ?? 0;
        if (isWrite) for (const index of Object.values(entry.GlobalSecondaryIndexes ?? {})) capacity.indexWriteUnits += index.CapacityUnits ?? 0;
      }
      return result;
    },
    { step: 'initialize', name: 'benchReadConsumedCapacity' },
  );

  const reader = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: stack.dynamoEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }),
  );
  const sqs = new SQSClient({ endpoint: stack.sqsEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const auth = { authorization: `Bearer ${stack.apiToken}`, 'content-type': 'application/json' };

  async function item(recordUserId: string): Promise<Record<string, unknown> | undefined> {
    const { Item } = await reader.send(new GetCommand({ TableName: stack.resources.tableName, Key: { pk: `REC#${recordUserId}` }, ConsistentRead: true }));
    return Item;
  }

  async function queueEmpty(): Promise<boolean> {
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: stack.resources.checkQueueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
      }),
    );
    const counts: Record<string, string | undefined> = Attributes;
    return Object.values(counts).every((count) => Number(count ?? 0) === 0);
  }

  /** One recording: a teacher on camera, start, a class, stop. Resolves with our record user id. */
  async function record(roomId: number, delayMs: number): Promise<string> {
    await sleep(delayMs);
    stack.emulator.join(roomId, 'teacher', { camera: true });
    // With an Idempotency-Key, as a careful client sends it: the task is created in a two-item transaction.
    const started = await fetch(`${stack.apiUrl}/recordings`, {
      method: 'POST',
      headers: { ...auth, 'idempotency-key': `bench-${roomId}` },
      body: JSON.stringify({ room_id: roomId }),
    });
    if (started.status !== 202) throw new Error(`start answered ${started.status}: ${await started.text()}`);
    const { record_user_id: recordUserId } = (await started.json()) as { record_user_id: string };
    await sleep(TIMINGS.classMs);
    const stopped = await fetch(`${stack.apiUrl}/recordings/${recordUserId}/stop`, { method: 'POST', headers: auth });
    if (stopped.status !== 202) throw new Error(`stop answered ${stopped.status}: ${await stopped.text()}`);
    return recordUserId;
  }

  function snapshot() {
    const stats = stack.emulator.stats();
    return {
      start: stats.requests.start,
      stop: stats.requests.stop,
      query: stats.requests.query,
      callbacksDelivered: stats.callbacks.delivered,
      callbacksDropped: stats.callbacks.dropped,
      writes: store.counters.writes,
      writeItems: store.counters.writeItems,
      reads: store.counters.reads,
      messages: checkQueue.sent,
      ...capacity,
      logBytes: stdoutBytes,
      logLines: stdoutLines,
    };
  }
  type Snapshot = ReturnType<typeof snapshot>;

  async function runScenario(scenario: Scenario) {
    stack.emulator.clearFaults();
    if (scenario === 'lost') stack.emulator.setFaults({ callbacks: { dropRate: 1 } });
    invocations.clear();
    const before: Snapshot = snapshot();
    const began = Date.now();
    progress(`per recording (${scenario}): ${RECORDINGS} recordings`);
    const ids = await Promise.all(Array.from({ length: RECORDINGS }, (_, index) => record(ROOM_BASE[scenario] + index, index * START_SPACING_MS)));

    // Until every task is terminal and no check is left on the queue (the last checks still read the task).
    const deadline = Date.now() + SETTLE_TIMEOUT_MS;
    const finals = new Map<string, Record<string, unknown>>();
    for (;;) {
      for (const id of ids) {
        if (finals.has(id)) continue;
        const found = await item(id);
        if (found !== undefined && (found.status === 'finished' || found.status === 'failed')) finals.set(id, found);
      }
      if (finals.size === ids.length && (await queueEmpty())) break;
      if (Date.now() > deadline) throw new Error(`${scenario}: ${finals.size}/${ids.length} terminal after ${SETTLE_TIMEOUT_MS} ms`);
      await sleep(POLL_INTERVAL_MS);
    }
    // Let a batch in the worker's hands finish its last writes.
    await sleep(1000);
    const after: Snapshot = snapshot();

    const perRecording = Object.fromEntries(
      (Object.keys(after) as (keyof Snapshot)[]).map((key) => [key, (after[key] - before[key]) / RECORDINGS]),
    ) as Record<keyof Snapshot, number>;
    const statuses: Record<string, number> = {};
    const lagsMs: number[] = [];
    const pollIntervalsSeconds: number[] = [];
    for (const final of finals.values()) {
      const status = String(final.status);
      statuses[status] = (statuses[status] ?? 0) + 1;
      const timeline = final.timeline as Array<{ status: string; at: string }>;
      const finalAtMs = Date.parse(timeline.at(-1)?.at ?? '');
      const vendor = stack.emulator.task(String(final.task_id));
      if (vendor?.finishedAtMs !== undefined) lagsMs.push(finalAtMs - vendor.finishedAtMs);
      pollIntervalsSeconds.push(Number(final.check_delay_seconds));
    }
    const functions = Object.fromEntries(
      [...invocations].map(([name, entry]) => [
        name,
        {
          invocationsPerRecording: entry.count / RECORDINGS,
          medianMs: median(entry.durationsMs),
          // Lambda bills each invocation's duration rounded up to the millisecond.
          billedMsPerRecording: entry.durationsMs.reduce((sum, ms) => sum + Math.ceil(ms), 0) / RECORDINGS,
        },
      ]),
    );
    return {
      scenario,
      recordings: RECORDINGS,
      wallSeconds: (Date.now() - began) / 1000,
      statuses,
      perRecording,
      functions,
      vendorFinishedToFinal: lagsMs.length === 0 ? undefined : { medianMs: median(lagsMs), maxMs: Math.max(...lagsMs), count: lagsMs.length },
      pollIntervalSeconds: { median: median(pollIntervalsSeconds), min: Math.min(...pollIntervalsSeconds), max: Math.max(...pollIntervalsSeconds) },
    };
  }

  const callbacks = await runScenario('callbacks');
  const lost = await runScenario('lost');
  reader.destroy();
  sqs.destroy();
  writeFileSync(
    resultFile,
    JSON.stringify({
      timing: timingArg,
      settings: {
        emulator: TIMINGS.emulator,
        startCheckDelaySeconds: TIMINGS.startCheckDelaySeconds,
        stopCheckDelaySeconds: TIMINGS.stopCheckDelaySeconds,
        checkBackoffFactor: DEFAULT_RECORDING_SETTINGS.checkBackoffFactor,
        classMs: TIMINGS.classMs,
      },
      scenarios: [callbacks, lost],
    }),
  );
} finally {
  await stack.stop();
}
