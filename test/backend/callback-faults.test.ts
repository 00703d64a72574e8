/**
 * Callbacks that never come, come twice, or come in the wrong order: the reconciler's
 * queries finish what callbacks do not, and nothing a late or repeated callback says
 * moves a task backwards.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { useLocalAws } from '../support/local-aws';
import { ApiClient, FAST_EMULATOR, FAST_FUNCTION_ENV, sleep, sqsClientFor, waitFor, waitForQueueDrained, type ApiTask } from './helpers';

let stack: LocalStack;
let api: ApiClient;
let sqs: SQSClient;
let runtime: typeof import('../../lib/runtime');

beforeAll(async () => {
  stack = await startLocalStack({
    mode: 'in-process',
    aws: { ...useLocalAws(), nameSuffix: 'be-callback-faults' },
    emulator: { ...FAST_EMULATOR },
    functionEnv: { ...FAST_FUNCTION_ENV },
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

const ORDER = ['starting', 'prepared', 'recording', 'stopping', 'finished'];

/** Every status in the timeline comes later in the order than the one before it. */
function expectForwardOnly(task: ApiTask): void {
  const ranks = task.timeline.map((entry) => ORDER.indexOf(entry.status));
  expect(ranks.every((rank) => rank >= 0)).toBe(true);
  for (let index = 1; index < ranks.length; index += 1) {
    expect(ranks[index], `timeline ${JSON.stringify(task.timeline.map((entry) => entry.status))}`).toBeGreaterThan(ranks[index - 1] ?? -1);
  }
}

describe('every callback dropped', () => {
  it('finishes the task by query, within a few polls', async () => {
    const roomId = 2001;
    await waitForQueueDrained(stack, sqs);
    const stats = stack.emulator.stats();
    const before = {
      starts: stats.requests.start,
      stops: stats.requests.stop,
      queries: stats.requests.query,
      dropped: stats.callbacks.dropped,
      writes: runtime.store.counters.writes,
      messages: runtime.checkQueue.sent,
    };
    stack.emulator.setFaults({ callbacks: { dropRate: 1 } });
    stack.emulator.join(roomId, 'teacher', { camera: true });

    const task = await api.started({ room_id: roomId });
    expect(task.status).toBe('prepared');
    // No record_started will come: the start-phase check's query sees the recording.
    const recording = await api.waitForStatus(task.record_user_id, 'recording');
    expect(recording.timeline.at(-1)?.source).toBe('query');
    expect(recording.callbacks.record_started).toBeNull();

    const stopped = await api.stop(task.record_user_id);
    expect(stopped.status, stopped.text).toBe(202);
    const finished = await api.waitForStatus(task.record_user_id, 'finished');

    expect(finished.timeline.map((entry) => entry.status)).toEqual(ORDER);
    const sources = Object.fromEntries(finished.timeline.map((entry) => [entry.status, entry.source]));
    expect(['query', 'reconciler']).toContain(sources.recording);
    expect(['query', 'reconciler']).toContain(sources.finished);
    expect(finished.callbacks).toEqual({ record_started: null, record_finished: null });
    expect(finished.polls).toBeGreaterThanOrEqual(1);
    expect(finished.failure).toBeNull();
    // The result came from the query answer: the same videos as the vendor's.
    const expected = stack.emulator.task(task.task_id as string)?.videos ?? [];
    expect(finished.videos.map((video) => video.file_id).sort()).toEqual(expected.map((video) => video.video_id).sort());
    expect(finished.videos.map((video) => video.kind).sort()).toEqual(['camera', 'whiteboard']);

    await waitForQueueDrained(stack, sqs);
    const after = stack.emulator.stats();
    const spent = {
      starts: after.requests.start - before.starts,
      stops: after.requests.stop - before.stops,
      queries: after.requests.query - before.queries,
      writes: runtime.store.counters.writes - before.writes,
      messages: runtime.checkQueue.sent - before.messages,
    };
    console.info(`budget of one recording with every callback dropped: ${JSON.stringify(spent)}`);
    expect(after.callbacks.dropped - before.dropped).toBe(2);
    expect(spent.starts).toBe(1);
    expect(spent.stops).toBe(1);
    expect(spent.queries).toBeGreaterThanOrEqual(1);
    expect(spent.queries).toBeLessThanOrEqual(5);
    expect((await api.task(task.record_user_id)).polls).toBe(spent.queries);
  });
});

describe('duplicated and reordered callbacks', () => {
  it('ends finished with every arrival counted, a late record_started changing nothing', async () => {
    const roomId = 2002;
    stack.emulator.setFaults({ callbacks: { duplicateRate: 1, reorderRate: 1 } });
    stack.emulator.join(roomId, 'teacher', { camera: true });
    const task = await api.started({ room_id: roomId });
    const taskId = task.task_id as string;
    // record_started is held back: the start-phase query finds the recording.
    await api.waitForStatus(task.record_user_id, 'recording');
    expect((await api.stop(taskId)).status).toBe(202);

    const settled = await api.waitForTask(
      task.record_user_id,
      (t) => (t.callbacks.record_started?.count ?? 0) >= 2 && (t.callbacks.record_finished?.count ?? 0) >= 2,
      'both callbacks to arrive twice',
    );
    expect(settled.status).toBe('finished');
    expect(settled.callbacks.record_started?.count).toBe(2);
    expect(settled.callbacks.record_finished?.count).toBe(2);
    expect(settled.timeline.map((entry) => entry.status)).toEqual(ORDER);
    expectForwardOnly(settled);
    expect(settled.videos.map((video) => video.kind).sort()).toEqual(['camera', 'whiteboard']);

    // The emulator did send them so: finished first, each callback twice.
    const attempts = stack.emulator.callbackAttempts().filter((attempt) => attempt.taskId === taskId && attempt.outcome === 'delivered');
    const types = attempts.map((attempt) => attempt.callbackType);
    expect(types.filter((type) => type === 'record_started')).toHaveLength(2);
    expect(types.filter((type) => type === 'record_finished')).toHaveLength(2);
    expect(types.indexOf('record_finished')).toBeLessThan(types.indexOf('record_started'));

    // Nothing comes later that changes it.
    await waitForQueueDrained(stack, sqs);
    const later = await api.task(task.record_user_id);
    expect(later.status).toBe('finished');
    expect(later.timeline).toEqual(settled.timeline);
    expect(later.videos).toEqual(settled.videos);
  });

  it('applies a record_finished that comes before any record_started, and the late record_started never undoes it', async () => {
    const roomId = 2003;
    stack.emulator.setFaults({ callbacks: { reorderNext: 1 } });
    stack.emulator.join(roomId, 'teacher', { camera: true });
    const task = await api.started({ room_id: roomId });
    expect(task.status).toBe('prepared');
    // Stopped at once, while still `prepared` on our side: no record_started has come, nor any check.
    const stopped = await api.stop(task.record_user_id);
    expect(stopped.status, stopped.text).toBe(202);
    expect(stopped.body.status).toBe('stopping');

    const settled = await api.waitForTask(
      task.record_user_id,
      (t) => t.status === 'finished' && (t.callbacks.record_started?.count ?? 0) >= 1,
      'finished, then the late record_started',
    );
    expect(settled.callbacks.record_finished?.count).toBe(1);
    expect(settled.callbacks.record_started?.count).toBe(1);
    // record_finished was counted first.
    expect(Date.parse(settled.callbacks.record_finished?.first_at ?? '')).toBeLessThanOrEqual(
      Date.parse(settled.callbacks.record_started?.first_at ?? ''),
    );
    expect(settled.timeline.map((entry) => entry.status)).toEqual(['starting', 'prepared', 'stopping', 'finished']);
    expect(settled.timeline.at(-1)?.source).toBe('callback');
    expectForwardOnly(settled);
    expect(settled.failure).toBeNull();

    await sleep(200);
    await waitForQueueDrained(stack, sqs);
    const later = await api.task(task.record_user_id);
    expect(later.status).toBe('finished');
    expect(later.timeline).toEqual(settled.timeline);
  });

  it('counts a duplicated record_started without a second move', async () => {
    const roomId = 2004;
    stack.emulator.setFaults({ callbacks: { duplicateNext: 1 } });
    stack.emulator.join(roomId, 'teacher', { camera: true });
    const task = await api.started({ room_id: roomId });
    const twice = await api.waitForTask(task.record_user_id, (t) => (t.callbacks.record_started?.count ?? 0) >= 2, 'record_started twice');
    expect(twice.status).toBe('recording');
    expect(twice.timeline.filter((entry) => entry.status === 'recording')).toHaveLength(1);
    stack.emulator.clearFaults();
    expect((await api.stop(task.record_user_id)).status).toBe(202);
    const finished = await api.waitForStatus(task.record_user_id, 'finished');
    expect(finished.callbacks.record_started?.count).toBe(2);
    expect(finished.callbacks.record_finished?.count).toBe(1);
    expect(finished.timeline.map((entry) => entry.status)).toEqual(ORDER);
    await waitFor(() => stack.emulator.stats().callbacks.duplicated, (n) => n >= 1, 'the emulator to report the duplicate');
  });
});
