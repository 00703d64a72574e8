/**
 * Crash safety: functions that die at the worst moment, through the whole in-process stack.
 *
 * The stack's `wrapHandler` lets a test kill a function before or after the real handler
 * ran: the SQS bridge then leaves the batch on the queue (it comes back after the visibility
 * timeout, and past maxReceiveCount goes to the DLQ), and the HTTP gateway answers 500 (the
 * emulator retries the callback). Every case checks the task still ends right, with the
 * emulator's videos, and that nothing that matters was done twice upstream.
 */
import { ReceiveMessageCommand, SendMessageBatchCommand, SetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { useLocalAws } from '../support/local-aws';

/** Time-scaled redelivery: the deployed queue's 180 s would outlast the test. */
const VISIBILITY_TIMEOUT_SECONDS = 1;
/** serverless.yml's redrive policy. */
const MAX_RECEIVE_COUNT = 5;
const WAIT_LIMIT_MS = 30_000;
/** Each case takes a few seconds alone; a loaded two-core machine may need far more. */
const TEST_TIMEOUT_MS = 90_000;

interface SeenRecord {
  messageId: string;
  receiveCount: number;
  recordUserId: string | undefined;
}

interface WorkerInvocation {
  records: SeenRecord[];
  /** What the check worker did with the batch: its failed items, or that it was killed. */
  outcome: { failedIds: string[] } | { crashed: 'before' | 'after' } | { threw: string };
  /** Emulator `query` requests made while this invocation ran (hung or answered). */
  queries: number;
}

type WorkerCrash = (records: SeenRecord[]) => 'before' | 'after' | undefined;
type CallbackCrash = (body: { callback_type?: string; record_user_id?: string }) => boolean;

let stack: LocalStack;
let sqs: SQSClient;
let workerCrash: WorkerCrash | undefined;
let callbackCrash: CallbackCrash | undefined;
const invocations: WorkerInvocation[] = [];
let roomCounter = 7_100;

function recordUserIdOf(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { record_user_id?: unknown };
    return typeof parsed.record_user_id === 'string' ? parsed.record_user_id : undefined;
  } catch {
    return undefined;
  }
}

beforeAll(async () => {
  stack = await startLocalStack({
    mode: 'in-process',
    aws: { ...useLocalAws(), nameSuffix: 'crash-safety' },
    emulator: { startDelayMs: 100, stopDelayMs: 100, processingDelayMs: 100, callbackRetryIntervalMs: 300, callbackMaxRetries: 3, idleStopMs: 120_000 },
    functionEnv: {
      START_CHECK_DELAY_SECONDS: '1',
      STOP_CHECK_DELAY_SECONDS: '1',
      CHECK_BACKOFF_FACTOR: '2',
      START_DEADLINE_SECONDS: '60',
      FINISH_DEADLINE_SECONDS: '60',
      MAX_RECORDING_SECONDS: '60',
      SWEEP_GRACE_SECONDS: '1',
      TIC_TIMEOUT_MS: '1000',
      LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
    },
    // The sweep runs only when a test calls it: it must not rescue a task before the DLQ case is seen.
    sweepIntervalMs: 3_600_000,
    wrapHandler: (functionName, handler) => {
      if (functionName === 'checkWorker') {
        return async (event: SQSEvent, context) => {
          const records = event.Records.map((record) => ({
            messageId: record.messageId,
            receiveCount: Number(record.attributes.ApproximateReceiveCount),
            recordUserId: recordUserIdOf(record.body),
          }));
          const queriesBefore = stack.emulator.stats().requests.query;
          const crash = workerCrash?.(records);
          const note = (outcome: WorkerInvocation['outcome']) =>
            invocations.push({ records, outcome, queries: stack.emulator.stats().requests.query - queriesBefore });
          if (crash === 'before') {
            note({ crashed: 'before' });
            throw new Error('injected crash before the check ran');
          }
          let answer: SQSBatchResponse | undefined;
          try {
            answer = (await handler(event, context)) as SQSBatchResponse | undefined;
          } catch (error) {
            // The real handler fails the whole batch (e.g. Powertools' "all records failed").
            note({ threw: (error as Error).message });
            throw error;
          }
          if (crash === 'after') {
            note({ crashed: 'after' });
            throw new Error('injected crash after the check ran, before its message was deleted');
          }
          note({ failedIds: (answer?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier) });
          return answer;
        };
      }
      if (functionName === 'ticCallback') {
        return async (event: APIGatewayProxyEventV2, context) => {
          const answer = await handler(event, context);
          let body: { callback_type?: string; record_user_id?: string } = {};
          try {
            body = JSON.parse(event.body ?? '{}') as typeof body;
          } catch {
            // Not a callback we aim at.
          }
          if (callbackCrash?.(body)) throw new Error('injected crash after the callback was stored, before the answer');
          return answer;
        };
      }
      return handler;
    },
  });
  sqs = new SQSClient({ endpoint: stack.sqsEndpoint, region: useLocalAws().region, credentials: useLocalAws().credentials });
  await sqs.send(
    new SetQueueAttributesCommand({
      QueueUrl: stack.resources.checkQueueUrl,
      Attributes: { VisibilityTimeout: String(VISIBILITY_TIMEOUT_SECONDS) },
    }),
  );
}, 60_000);

afterAll(async () => {
  sqs?.destroy();
  await stack?.stop();
});

// ------------------------------------------------------------------------------------------

interface ApiTask {
  task_id: string | null;
  record_user_id: string;
  status: string;
  timeline: { status: string; source: string }[];
  videos: { file_id: string; video_type: number; user_id: string; offset_ms: number; duration_ms: number }[];
  callbacks: { record_started: { count: number } | null; record_finished: { count: number } | null };
  polls: number;
  failure: { reason: string } | null;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function api(path: string, method = 'GET', body?: unknown): Promise<{ status: number; json: ApiTask }> {
  const response = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${stack.apiToken}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as ApiTask };
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, limitMs = WAIT_LIMIT_MS): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() - started > limitMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function task(id: string): Promise<ApiTask> {
  const { status, json } = await api(`/recordings/${id}`);
  expect(status).toBe(200);
  return json;
}

async function taskIn(id: string, statuses: string[]): Promise<ApiTask> {
  return waitFor(`${id} to be ${statuses.join(' or ')}`, async () => {
    const current = await task(id);
    return statuses.includes(current.status) ? current : undefined;
  });
}

/** Starts recording a fresh room with a teacher on camera; returns the room and the task. */
async function startClass(): Promise<{ roomId: number; id: string }> {
  roomCounter += 1;
  const roomId = roomCounter;
  stack.emulator.join(roomId, 'teacher', { camera: true });
  const started = await api('/recordings', 'POST', { room_id: roomId });
  expect(started.status).toBe(202);
  return { roomId, id: started.json.record_user_id };
}

/** The one emulator task of the room, finished, and its videos as our API shows videos. */
function vendorVideos(roomId: number): { taskId: string; videos: string[] } {
  const vendorTasks = stack.emulator.tasks().filter((snapshot) => snapshot.roomId === roomId);
  expect(vendorTasks).toHaveLength(1);
  const [vendorTask] = vendorTasks;
  expect(vendorTask?.state).toBe('finished');
  return {
    taskId: vendorTask!.taskId,
    videos: vendorTask!.videos
      .map((video) => `${video.video_id}|${video.video_type}|${video.user_id}|${video.video_play_time}|${video.video_duration}`)
      .sort(),
  };
}

function ourVideos(finished: ApiTask): string[] {
  return finished.videos.map((video) => `${video.file_id}|${video.video_type}|${video.user_id}|${video.offset_ms}|${video.duration_ms}`).sort();
}

function expectMatchesEmulator(finished: ApiTask, roomId: number): void {
  const vendor = vendorVideos(roomId);
  expect(finished.status).toBe('finished');
  expect(finished.task_id).toBe(vendor.taskId);
  expect(ourVideos(finished)).toEqual(vendor.videos);
  expect(vendor.videos.length).toBeGreaterThanOrEqual(2); // the whiteboard and the teacher's camera
}

/** Each status once, in order: no transition was made twice. */
function expectEachStatusOnce(finished: ApiTask): void {
  const statuses = finished.timeline.map((entry) => entry.status);
  expect(new Set(statuses).size).toBe(statuses.length);
}

function invocationsOf(id: string): WorkerInvocation[] {
  return invocations.filter((invocation) => invocation.records.some((record) => record.recordUserId === id));
}

/** Receive counts seen by the worker, per message id, for the task's check messages. */
function receivesOf(id: string): Map<string, number[]> {
  const seen = new Map<string, number[]>();
  for (const invocation of invocationsOf(id)) {
    for (const record of invocation.records.filter((one) => one.recordUserId === id)) {
      seen.set(record.messageId, [...(seen.get(record.messageId) ?? []), record.receiveCount]);
    }
  }
  return seen;
}

function requestCounts(): { start: number; stop: number; query: number } {
  const { start, stop, query } = stack.emulator.stats().requests;
  return { start, stop, query };
}

// ------------------------------------------------------------------------------------------

describe('crash safety', () => {
  it('a check worker that dies after its write, before its message is deleted: the redelivery is a no-op and the task finishes', async () => {
    // Callbacks lost: the checks alone carry the task through.
    stack.emulator.clearFaults();
    stack.emulator.setFaults({ callbacks: { dropRate: 1 } });
    const before = requestCounts();
    const { roomId, id } = await startClass();
    // Every first delivery of this task's checks runs, then the worker dies.
    workerCrash = (records) => (records.some((record) => record.recordUserId === id && record.receiveCount === 1) ? 'after' : undefined);

    await taskIn(id, ['recording']);
    // The start check's message comes back and is seen again before the class is stopped.
    await waitFor('the start check redelivered', () => [...receivesOf(id).values()].some((counts) => counts.includes(2)));
    await sleep(500);
    expect((await task(id)).status).toBe('recording');

    expect((await api(`/recordings/${id}/stop`, 'POST')).status).toBe(202);
    const finished = await taskIn(id, ['finished', 'failed']);
    // Let the stop check's message come back too.
    await waitFor('every crashed message redelivered', () =>
      [...receivesOf(id).values()].every((counts) => counts.length >= 2 || !counts.includes(1)) ? true : undefined,
    );
    workerCrash = undefined;

    expectMatchesEmulator(finished, roomId);
    expectEachStatusOnce(finished);
    const after = requestCounts();
    expect(after.start - before.start).toBe(1);
    expect(after.stop - before.stop).toBe(1);
    // The checks that ran did the querying; their redeliveries queried nothing.
    const redelivered = invocationsOf(id).filter((invocation) => invocation.records.every((record) => record.receiveCount > 1));
    expect(redelivered.length).toBeGreaterThanOrEqual(2);
    for (const invocation of redelivered) expect(invocation.queries).toBe(0);
    expect((await task(id)).polls).toBe(after.query - before.query);
  }, TEST_TIMEOUT_MS);

  it('a check worker that dies before its write, twice: the message comes back and the task still finishes', async () => {
    stack.emulator.clearFaults();
    stack.emulator.setFaults({ callbacks: { dropRate: 1 } });
    const before = requestCounts();
    const { roomId, id } = await startClass();
    const timesToDie = 2;
    workerCrash = (records) =>
      records.some((record) => record.recordUserId === id && record.receiveCount <= timesToDie) ? 'before' : undefined;

    await taskIn(id, ['recording']);
    expect((await api(`/recordings/${id}/stop`, 'POST')).status).toBe(202);
    const finished = await taskIn(id, ['finished', 'failed']);
    workerCrash = undefined;

    expectMatchesEmulator(finished, roomId);
    expectEachStatusOnce(finished);
    // The message that moved the task on was received three times: two deaths, then the check.
    const counts = [...receivesOf(id).values()];
    expect(counts.some((seen) => seen.includes(1) && seen.includes(2) && seen.includes(3))).toBe(true);
    for (const invocation of invocationsOf(id).filter((one) => 'crashed' in one.outcome)) expect(invocation.queries).toBe(0);
    const after = requestCounts();
    expect(after.start - before.start).toBe(1);
    expect(after.stop - before.stop).toBe(1);
    expect(finished.polls).toBe(after.query - before.query);
  }, TEST_TIMEOUT_MS);

  it('a check that dies on every delivery ends in the DLQ after maxReceiveCount, and the sweep still finishes the task', async () => {
    stack.emulator.clearFaults();
    stack.emulator.setFaults({ callbacks: { dropRate: 1 } });
    const { roomId, id } = await startClass();
    await taskIn(id, ['recording']);
    // From now on, the first check message of this task (the stop check) kills the worker every time.
    let poisonId: string | undefined;
    workerCrash = (records) => {
      const mine = records.find((record) => record.recordUserId === id);
      if (mine !== undefined && poisonId === undefined) poisonId = mine.messageId;
      return records.some((record) => record.messageId === poisonId) ? 'before' : undefined;
    };
    expect((await api(`/recordings/${id}/stop`, 'POST')).status).toBe(202);

    const dead = await waitFor('the stop check in the DLQ', async () => {
      const received = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: stack.resources.checkDlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, AttributeNames: ['All'] }),
      );
      return received.Messages?.find((message) => recordUserIdOf(message.Body ?? '') === id);
    });
    expect(JSON.parse(dead.Body ?? '{}')).toMatchObject({ record_user_id: id, phase: 'stop' });
    expect(receivesOf(id).get(poisonId!)).toEqual([1, 2, 3, 4, 5].slice(0, MAX_RECEIVE_COUNT));
    // Nobody else looks after the task: it is still waiting for its result.
    expect((await task(id)).status).toBe('stopping');

    // The sweep sees the overdue check and sends a new one, which the worker survives.
    const finished = await waitFor('the sweep to recover the task', async () => {
      await stack.sweepNow();
      await sleep(500);
      const current = await task(id);
      return current.status === 'finished' || current.status === 'failed' ? current : undefined;
    });
    workerCrash = undefined;
    expectMatchesEmulator(finished, roomId);
    expectEachStatusOnce(finished);
    expect(finished.timeline.at(-1)?.source).toBe('query');
  }, TEST_TIMEOUT_MS);

  it('a callback handler that dies after storing the callback, before answering: the retry is a counted duplicate', async () => {
    stack.emulator.clearFaults();
    const { roomId, id } = await startClass();
    let crashed = 0;
    callbackCrash = (body) => {
      if (body.record_user_id !== id || body.callback_type !== 'record_finished' || crashed > 0) return false;
      crashed += 1;
      return true;
    };
    await taskIn(id, ['recording']);
    expect((await api(`/recordings/${id}/stop`, 'POST')).status).toBe(202);
    const finished = await taskIn(id, ['finished', 'failed']);
    // The emulator retries after its interval; wait for the retry to be counted.
    const counted = await waitFor('the retried record_finished', async () => {
      const current = await task(id);
      return (current.callbacks.record_finished?.count ?? 0) >= 2 ? current : undefined;
    });
    callbackCrash = undefined;

    expect(crashed).toBe(1);
    expectMatchesEmulator(finished, roomId);
    expectMatchesEmulator(counted, roomId);
    expectEachStatusOnce(counted);
    expect(counted.callbacks.record_finished?.count).toBe(2);
    expect(counted.timeline.filter((entry) => entry.status === 'finished')).toHaveLength(1);
    const attempts = stack.emulator
      .callbackAttempts()
      .filter((attempt) => attempt.taskId === finished.task_id && attempt.callbackType === 'record_finished');
    expect(attempts.map((attempt) => [attempt.attempt, attempt.outcome, attempt.httpStatus])).toEqual([
      [0, 'failed', 500],
      [1, 'delivered', 200],
    ]);
  }, TEST_TIMEOUT_MS);

  it('a batch where one record throws: only that message comes back (partial batch response)', async () => {
    stack.emulator.clearFaults();
    workerCrash = undefined;
    // Three good check messages (for tasks that no longer need them, and for one we never had) and one that cannot be read.
    const [first, second] = await Promise.all([startClass(), startClass()]);
    await Promise.all([taskIn(first.id, ['recording']), taskIn(second.id, ['recording'])]);
    const tag = `batch-${Date.now()}`;
    const bodies = [
      JSON.stringify({ v: 1, record_user_id: first.id, attempt: 1, phase: 'start' }),
      JSON.stringify({ v: 1, record_user_id: second.id, attempt: 1, phase: 'start' }),
      JSON.stringify({ v: 1, record_user_id: `tic_record_user_1_${tag}`, attempt: 1, phase: 'stop' }),
      `not a check message ${tag}`,
    ];
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: stack.resources.checkQueueUrl,
        Entries: bodies.map((body, index) => ({ Id: String(index), MessageBody: body })),
      }),
    );
    const ids = (sent.Successful ?? []).sort((a, b) => Number(a.Id) - Number(b.Id)).map((entry) => entry.MessageId ?? '');
    expect(ids).toHaveLength(4);
    const poisonId = ids[3]!;

    const seenIn = (messageId: string) => invocations.filter((invocation) => invocation.records.some((record) => record.messageId === messageId));
    await waitFor('the unreadable message delivered twice', () => (seenIn(poisonId).length >= 2 ? true : undefined));
    // The batch that held it together with good messages reported only it as failed.
    const shared = seenIn(poisonId).find((invocation) => invocation.records.length > 1);
    expect(shared, 'the four messages never shared a batch').toBeDefined();
    expect(shared!.outcome).toEqual({ failedIds: [poisonId] });
    // The good ones were deleted: none ever came back.
    for (const goodId of ids.slice(0, 3)) {
      expect(seenIn(goodId).flatMap((invocation) => invocation.records.filter((record) => record.messageId === goodId).map((record) => record.receiveCount))).toEqual([1]);
    }
    expect(seenIn(poisonId)[1]?.records.find((record) => record.messageId === poisonId)?.receiveCount).toBe(2);
    // And the tasks those good checks named were left as they were.
    expect((await task(first.id)).status).toBe('recording');
    expect((await task(second.id)).status).toBe('recording');
  }, TEST_TIMEOUT_MS);
});
