/**
 * One recording's whole life driven by the vendor's callbacks, over HTTP: the API's answers,
 * the timeline, the videos against the emulator's room history, and the budget of one
 * recording (upstream calls, DynamoDB writes, SQS messages). Then idempotent starts.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { useLocalAws } from '../support/local-aws';
import {
  ApiClient,
  FAST_EMULATOR,
  FAST_FUNCTION_ENV,
  sleep,
  sqsClientFor,
  waitFor,
  waitForQueueDrained,
  type ApiTask,
} from './helpers';

let stack: LocalStack;
let api: ApiClient;
let sqs: SQSClient;
let runtime: typeof import('../../lib/runtime');

beforeAll(async () => {
  stack = await startLocalStack({
    mode: 'in-process',
    aws: { ...useLocalAws(), nameSuffix: 'be-lifecycle' },
    // A start delay well above one DynamoDB write, so that `prepared` is always written before record_started arrives.
    emulator: { ...FAST_EMULATOR, startDelayMs: 300 },
    functionEnv: { ...FAST_FUNCTION_ENV },
  });
  api = new ApiClient(stack);
  sqs = sqsClientFor(stack);
  // The same module instance as the handlers' (imported after the stack loaded them).
  runtime = await import('../../lib/runtime');
}, 60_000);

afterAll(async () => {
  sqs?.destroy();
  await stack?.stop();
});

function budgetSnapshot() {
  const stats = stack.emulator.stats();
  return {
    starts: stats.requests.start,
    stops: stats.requests.stop,
    queries: stats.requests.query,
    writes: runtime.store.counters.writes,
    writeItems: runtime.store.counters.writeItems,
    messages: runtime.checkQueue.sent,
  };
}

describe('a recording driven by callbacks', () => {
  it('goes starting → prepared → recording → stopping → finished with the room history as videos, within budget', async () => {
    const roomId = 1001;
    await waitForQueueDrained(stack, sqs);
    const before = budgetSnapshot();

    // The teacher is on camera before the recording starts: that video begins at offset 0.
    stack.emulator.join(roomId, 'teacher', { camera: true });
    const started = await api.start({ room_id: roomId, group_id: 'class-1001', whiteboard: { width: 1280, height: 720 } });
    expect(started.status, started.text).toBe(202);
    const accepted = started.body;
    expect(accepted.task_id).toMatch(/^[a-z0-9]{20}$/);
    expect(accepted.record_user_id).toMatch(new RegExp(`^tic_record_user_${roomId}_[A-Za-z0-9]+$`));
    expect(accepted.room_id).toBe(roomId);
    expect(accepted.group_id).toBe('class-1001');
    expect(accepted.whiteboard).toEqual({ width: 1280, height: 720 });
    expect(accepted.status).toBe('prepared');
    expect(Date.parse(accepted.created_at)).not.toBeNaN();
    expect(Date.parse(accepted.updated_at)).toBeGreaterThanOrEqual(Date.parse(accepted.created_at));
    expect(accepted.videos).toEqual([]);
    expect(accepted.failure).toBeNull();
    const taskId = accepted.task_id as string;

    const recording = await api.waitForStatus(accepted.record_user_id, 'recording');
    expect(recording.task_id).toBe(taskId);

    // While recording: a student joins on camera, then the teacher shares the screen.
    stack.emulator.join(roomId, 'student', { camera: true });
    await sleep(300);
    stack.emulator.setScreen(roomId, 'teacher', true);
    await sleep(300);

    const stopped = await api.stop(taskId);
    expect(stopped.status, stopped.text).toBe(202);
    expect(stopped.body.status).toBe('stopping');

    const finished = await api.waitForStatus(accepted.record_user_id, 'finished');
    expect(finished.timeline.map((entry) => entry.status)).toEqual(['starting', 'prepared', 'recording', 'stopping', 'finished']);
    expect(finished.timeline.map((entry) => entry.source)).toEqual(['api', 'api', 'callback', 'api', 'callback']);
    expect(finished.callbacks.record_started?.count).toBe(1);
    expect(finished.callbacks.record_finished?.count).toBe(1);
    expect(finished.polls).toBe(0);
    expect(finished.failure).toBeNull();
    expect(finished.stop_time).not.toBeNull();

    // The videos are the emulator's, cut from the room's history.
    const expected = stack.emulator.task(taskId)?.videos ?? [];
    expect(expected.length).toBe(4);
    expect(finished.videos).toHaveLength(expected.length);
    const byFileId = new Map(finished.videos.map((video) => [video.file_id, video]));
    for (const video of expected) {
      const got = byFileId.get(video.video_id);
      expect(got, `video ${video.video_id}`).toBeDefined();
      expect(got?.video_type).toBe(video.video_type);
      expect(got?.user_id).toBe(video.video_type === 2 ? '' : video.user_id);
      expect(Math.abs((got?.offset_ms ?? -1) - video.video_play_time)).toBeLessThanOrEqual(1);
      expect(Math.abs((got?.duration_ms ?? -1) - video.video_duration)).toBeLessThanOrEqual(1);
      expect(got?.url).toBe(video.video_url);
    }
    const kinds = finished.videos.map((video) => `${video.kind}:${video.user_id}`).sort();
    expect(kinds).toEqual(['camera:student', 'camera:teacher', 'screen:teacher', 'whiteboard:']);
    const offsetOf = (kind: string, user: string) => finished.videos.find((v) => v.kind === kind && v.user_id === user)?.offset_ms ?? -1;
    expect(offsetOf('camera', 'teacher')).toBe(0);
    expect(offsetOf('whiteboard', '')).toBe(0);
    // Joined while recording, in this order: later segments start later on the recording's timeline.
    expect(offsetOf('camera', 'student')).toBeGreaterThan(0);
    expect(offsetOf('screen', 'teacher')).toBeGreaterThan(offsetOf('camera', 'student'));

    // Budget, once every check message of this recording has been handled.
    await waitForQueueDrained(stack, sqs);
    const after = budgetSnapshot();
    const spent = {
      starts: after.starts - before.starts,
      stops: after.stops - before.stops,
      queries: after.queries - before.queries,
      writes: after.writes - before.writes,
      writeItems: after.writeItems - before.writeItems,
      messages: after.messages - before.messages,
    };
    console.info(`budget of one recording with callbacks on time: ${JSON.stringify(spent)}`);
    expect(spent.starts).toBe(1);
    expect(spent.stops).toBe(1);
    expect(spent.queries).toBe(0);
    expect(spent.writes).toBeLessThanOrEqual(6);
    expect(spent.messages).toBeLessThanOrEqual(2);
    // Nothing changed after the result: the late start-phase check found nothing to do.
    const settled = await api.task(accepted.record_user_id);
    expect(settled.polls).toBe(0);
    expect(settled.status).toBe('finished');
    expect(settled.timeline).toHaveLength(5);
  });

  it('is found by its task id and by its record user id alike', async () => {
    const task = await api.started({ room_id: 1004 });
    const byTaskId = await api.task(task.task_id as string);
    const byUserId = await api.task(task.record_user_id);
    expect(byTaskId.record_user_id).toBe(task.record_user_id);
    expect(byUserId.task_id).toBe(task.task_id);
    // Stopping by record user id works too.
    await api.waitForStatus(task.record_user_id, 'recording');
    const stopped = await api.stop(task.record_user_id);
    expect(stopped.status, stopped.text).toBe(202);
    await api.waitForStatus(task.task_id as string, 'finished');
    // A second stop of a finished task is not an error and calls nobody.
    const stopsBefore = stack.emulator.stats().requests.stop;
    const again = await api.stop(task.record_user_id);
    expect(again.status, again.text).toBe(202);
    expect(again.body.status).toBe('finished');
    expect(stack.emulator.stats().requests.stop).toBe(stopsBefore);
  });
});

describe('idempotent start', () => {
  it('returns the same task for the same key and body, and starts the vendor once', async () => {
    const startsBefore = stack.emulator.stats().requests.start;
    const key = `lesson-1002-${Date.now()}`;
    const first = await api.start({ room_id: 1002, group_id: 'g-1002' }, { 'idempotency-key': key });
    expect(first.status, first.text).toBe(202);
    const second = await api.start({ room_id: 1002, group_id: 'g-1002' }, { 'idempotency-key': key });
    expect(second.status, second.text).toBe(202);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.body.record_user_id).toBe(first.body.record_user_id);
    expect(second.body.task_id).toBe(first.body.task_id);
    // Even once the task has moved on, the replay is the same task.
    await api.waitForStatus(first.body.record_user_id, 'recording');
    const third = await api.start({ group_id: 'g-1002', room_id: 1002 }, { 'idempotency-key': key });
    expect(third.status, third.text).toBe(202);
    expect(third.body.record_user_id).toBe(first.body.record_user_id);
    expect(third.body.status).toBe('recording');

    expect(stack.emulator.stats().requests.start - startsBefore).toBe(1);
    const listed = await api.list(1002);
    expect(listed.body.recordings.map((task: ApiTask) => task.record_user_id)).toEqual([first.body.record_user_id]);
  });

  it('starts the vendor once when the same request is sent several times at once', async () => {
    const startsBefore = stack.emulator.stats().requests.start;
    const key = `lesson-1006-${Date.now()}`;
    const responses = await Promise.all(Array.from({ length: 5 }, () => api.start({ room_id: 1006 }, { 'idempotency-key': key })));
    for (const response of responses) expect(response.status, response.text).toBe(202);
    const ids = new Set(responses.map((response) => response.body.record_user_id));
    expect(ids.size).toBe(1);
    expect(responses.filter((response) => response.headers.get('idempotent-replayed') === 'true')).toHaveLength(4);
    expect(stack.emulator.stats().requests.start - startsBefore).toBe(1);
    expect((await api.list(1006)).body.recordings).toHaveLength(1);
  });

  it('refuses the same key with another body (409) and starts nothing', async () => {
    const key = `lesson-1003-${Date.now()}`;
    const first = await api.start({ room_id: 1003 }, { 'idempotency-key': key });
    expect(first.status, first.text).toBe(202);
    const startsBefore = stack.emulator.stats().requests.start;
    for (const other of [{ room_id: 1005 }, { room_id: 1003, group_id: 'other' }, { room_id: 1003, whiteboard: { width: 640, height: 480 } }]) {
      const conflict = await api.start(other, { 'idempotency-key': key });
      expect(conflict.status, conflict.text).toBe(409);
      expect(conflict.body.error.code).toBe('conflict');
    }
    expect(stack.emulator.stats().requests.start).toBe(startsBefore);
    expect((await api.list(1005)).body.recordings).toEqual([]);
    expect((await api.list(1003)).body.recordings).toHaveLength(1);

    // Another key is another recording.
    const other = await api.start({ room_id: 1003 }, { 'idempotency-key': `${key}-b` });
    expect(other.status, other.text).toBe(202);
    expect(other.body.record_user_id).not.toBe(first.body.record_user_id);
    await waitFor(() => api.list(1003), (page) => page.body.recordings.length === 2, 'two recordings of room 1003');
  });
});
