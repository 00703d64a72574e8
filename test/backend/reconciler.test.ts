/**
 * The reconciler over the real queue: a check message that comes twice (late or at the same
 * time) cannot make two chains act; the sweep resumes a task whose check message was lost;
 * a task whose result never comes fails at its deadline.
 *
 * Every callback is dropped here, so that only the reconciler moves tasks after `start`
 * and `stop`. The check worker is wrapped only to see which messages it handled.
 */
import { PurgeQueueCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LambdaHandler } from '../../local/http-gateway';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { useLocalAws } from '../support/local-aws';
import { ApiClient, FAST_EMULATOR, FAST_FUNCTION_ENV, sleep, sqsClientFor, waitFor, type ApiTask } from './helpers';

const STOP_CHECK_DELAY_SECONDS = 1;
const FINISH_DEADLINE_SECONDS = 4;

interface HandledCheck {
  messageId: string;
  body: string;
  message: { v: number; record_user_id: string; attempt: number; phase: 'start' | 'stop' };
}

/** Check messages the worker has finished handling, in order. */
const handled: HandledCheck[] = [];

let stack: LocalStack;
let api: ApiClient;
let sqs: SQSClient;
let runtime: typeof import('../../lib/runtime');

beforeAll(async () => {
  stack = await startLocalStack({
    mode: 'in-process',
    aws: { ...useLocalAws(), nameSuffix: 'be-reconciler' },
    emulator: { ...FAST_EMULATOR },
    functionEnv: {
      ...FAST_FUNCTION_ENV,
      STOP_CHECK_DELAY_SECONDS: String(STOP_CHECK_DELAY_SECONDS),
      FINISH_DEADLINE_SECONDS: String(FINISH_DEADLINE_SECONDS),
      // A check is overdue as soon as it is late at all.
      SWEEP_GRACE_SECONDS: '0',
    },
    wrapHandler: (functionName, handler): LambdaHandler => {
      if (functionName !== 'checkWorker') return handler;
      return async (event: SQSEvent, context) => {
        const result = await handler(event, context);
        for (const record of event.Records) {
          handled.push({ messageId: record.messageId, body: record.body, message: JSON.parse(record.body) as HandledCheck['message'] });
        }
        return result;
      };
    },
  });
  api = new ApiClient(stack);
  sqs = sqsClientFor(stack);
  runtime = await import('../../lib/runtime');
}, 60_000);

afterEach(() => {
  stack.emulator.clearFaults();
});

afterAll(async () => {
  sqs?.destroy();
  await stack?.stop();
});

function handledFor(task: ApiTask, attempt?: number): HandledCheck[] {
  return handled.filter((check) => check.message.record_user_id === task.record_user_id && (attempt === undefined || check.message.attempt === attempt));
}

async function sendCopy(check: HandledCheck): Promise<void> {
  await sqs.send(new SendMessageCommand({ QueueUrl: stack.resources.checkQueueUrl, MessageBody: check.body, DelaySeconds: 0 }));
}

/** A recording task whose callbacks are all dropped and whose vendor queries all fail. */
async function startWithFailingQueries(roomId: number): Promise<ApiTask> {
  stack.emulator.setFaults({ callbacks: { dropRate: 1 }, query: { errorRate: 1 } });
  stack.emulator.join(roomId, 'teacher', { camera: true });
  const task = await api.started({ room_id: roomId });
  expect(task.status).toBe('prepared');
  return task;
}

describe('two check chains for one task', () => {
  it('a check message delivered again after its check ran is stale: no query, no new check', async () => {
    const task = await startWithFailingQueries(5001);
    // The first start-phase check queries (and fails), then claims and sends the next check.
    const [first] = await waitFor(() => handledFor(task), (checks) => checks.length >= 1, 'the first check to run');
    expect(first?.message).toMatchObject({ attempt: 1, phase: 'start' });
    const after = await api.task(task.record_user_id);
    expect(after.status).toBe('prepared');
    expect(after.last_upstream_error).toMatchObject({ operation: 'query', code: 20099 });

    const queriesBefore = stack.emulator.stats().requests.query;
    const sentBefore = runtime.checkQueue.sent;
    await sendCopy(first as HandledCheck);
    await waitFor(() => handledFor(task, 1), (checks) => checks.length >= 2, 'the copy to be handled');
    // The copy's attempt is no longer the task's: it neither queried nor sent anything.
    expect(stack.emulator.stats().requests.query).toBe(queriesBefore);
    expect(runtime.checkQueue.sent).toBe(sentBefore);

    // The live chain goes on alone and finds the recording once queries work again.
    stack.emulator.setFaults({ query: { errorRate: 0 } });
    const recording = await api.waitForStatus(task.record_user_id, 'recording');
    expect(recording.timeline.at(-1)?.source).toBe('query');
    await waitFor(() => handledFor(task, 2), (checks) => checks.length >= 1, 'the live check to be handled');
    expect(handledFor(task, 2)).toHaveLength(1);
    expect(handledFor(task, 3)).toHaveLength(0);
  });

  it('two copies of the live check handled together: both may query, only one claims the next check', async () => {
    const task = await startWithFailingQueries(5002);
    const [first] = await waitFor(() => handledFor(task), (checks) => checks.length >= 1, 'the first check to run');
    expect(first?.message.attempt).toBe(1);
    // The live chain is now at attempt 2 (its message is delayed); two more copies of it go out at once.
    const live: HandledCheck = { ...(first as HandledCheck), body: JSON.stringify({ ...first?.message, attempt: 2 }) };
    const sentBefore = runtime.checkQueue.sent;
    await Promise.all([sendCopy(live), sendCopy(live)]);
    // Three messages of attempt 2 in all (two copies, and the chain's own).
    await waitFor(() => handledFor(task, 2), (checks) => checks.length >= 3, 'all three attempt-2 messages to be handled', 20_000);
    expect(runtime.checkQueue.sent - sentBefore).toBe(1);
    // Exactly one chain goes on: attempt 3, once.
    stack.emulator.setFaults({ query: { errorRate: 0 } });
    await api.waitForStatus(task.record_user_id, 'recording');
    await waitFor(() => handledFor(task, 3), (checks) => checks.length >= 1, 'the one attempt-3 check to be handled');
    await sleep(500);
    expect(handledFor(task, 3)).toHaveLength(1);
    expect(handledFor(task, 4)).toHaveLength(0);
  });
});

describe('the sweep', () => {
  it('resumes a task whose check message was lost', async () => {
    stack.emulator.setFaults({ callbacks: { dropRate: 1 } });
    stack.emulator.join(5003, 'teacher', { camera: true });
    const task = await api.started({ room_id: 5003 });
    await api.waitForStatus(task.record_user_id, 'recording');
    const stopped = await api.stop(task.record_user_id);
    expect(stopped.status, stopped.text).toBe(202);
    // The stop-phase check is lost: nothing will look at the task again by itself.
    await sqs.send(new PurgeQueueCommand({ QueueUrl: stack.resources.checkQueueUrl }));
    const handledBefore = handledFor(task).length;
    await sleep((STOP_CHECK_DELAY_SECONDS + 1) * 1000);
    const stuck = await api.task(task.record_user_id);
    expect(stuck.status).toBe('stopping');
    expect(handledFor(task)).toHaveLength(handledBefore);
    expect(stack.emulator.task(task.task_id as string)?.state).toBe('finished');

    await stack.sweepNow();
    const finished = await api.waitForStatus(task.record_user_id, 'finished');
    expect(finished.timeline.at(-1)?.source).toBe('query');
    expect(finished.videos.map((video) => video.kind).sort()).toEqual(['camera', 'whiteboard']);
    await waitFor(() => handledFor(task).length, (count) => count >= handledBefore + 1, 'the resumed check to be handled');
    expect(handledFor(task).length).toBe(handledBefore + 1);
    // A second sweep finds nothing to do for a finished task.
    const sentBefore = runtime.checkQueue.sent;
    await stack.sweepNow();
    expect(runtime.checkQueue.sent).toBe(sentBefore);
  });
});

describe('deadlines', () => {
  it('fails a task whose result never comes with deadline_exceeded', async () => {
    stack.emulator.setFaults({ callbacks: { dropRate: 1 } });
    stack.emulator.join(5004, 'teacher', { camera: true });
    const task = await api.started({ room_id: 5004 });
    await api.waitForStatus(task.record_user_id, 'recording');
    // From now on the vendor cannot be asked, and its record_finished is lost.
    stack.emulator.setFaults({ query: { errorRate: 1 } });
    const queriesBefore = stack.emulator.stats().requests.query;
    expect((await api.stop(task.record_user_id)).status).toBe(202);

    const failed = await api.waitForStatus(task.record_user_id, 'failed', (FINISH_DEADLINE_SECONDS + 15) * 1000);
    expect(failed.failure?.reason).toBe('deadline_exceeded');
    expect(failed.timeline.map((entry) => entry.status)).toEqual(['starting', 'prepared', 'recording', 'stopping', 'failed']);
    expect(failed.timeline.at(-1)?.source).toBe('reconciler');
    expect(failed.last_upstream_error).toMatchObject({ operation: 'query', code: 20099 });
    expect(stack.emulator.stats().requests.query - queriesBefore).toBeGreaterThanOrEqual(1);
    expect(failed.videos).toEqual([]);
    // The failure is final for the reconciler: the sweep leaves it alone.
    const sentBefore = runtime.checkQueue.sent;
    await stack.sweepNow();
    expect(runtime.checkQueue.sent).toBe(sentBefore);
    expect((await api.task(task.record_user_id)).status).toBe('failed');
  });
});
