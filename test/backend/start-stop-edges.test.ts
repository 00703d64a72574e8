/**
 * The edges of start and stop: a `start` whose answer never comes (with and without the
 * vendor having started anything), and a `stop` of a task the vendor had already ended (20011).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { useLocalAws } from '../support/local-aws';
import { ApiClient, FAST_EMULATOR, FAST_FUNCTION_ENV, expectNoStackTrace, waitFor } from './helpers';

/** Far above the emulator's answers (a few ms) and far below the callback delay used below. */
const TIC_TIMEOUT_MS = 400;
const CALLBACK_DELAY_MS = 1000;
const START_DEADLINE_SECONDS = 4;
/** A room where nobody publishes is auto-stopped by the vendor after this long. */
const IDLE_STOP_MS = 1500;

let stack: LocalStack;
let api: ApiClient;

beforeAll(async () => {
  stack = await startLocalStack({
    mode: 'in-process',
    aws: { ...useLocalAws(), nameSuffix: 'be-start-stop-edges' },
    emulator: { ...FAST_EMULATOR, idleStopMs: IDLE_STOP_MS },
    functionEnv: {
      ...FAST_FUNCTION_ENV,
      TIC_TIMEOUT_MS: String(TIC_TIMEOUT_MS),
      START_DEADLINE_SECONDS: String(START_DEADLINE_SECONDS),
    },
  });
  api = new ApiClient(stack);
}, 60_000);

afterEach(() => {
  stack.emulator.clearFaults();
});

afterAll(async () => {
  await stack?.stop();
});

describe('a start that times out', () => {
  it('answers 202 starting without a task id; the later record_started completes the task', async () => {
    const roomId = 3001;
    stack.emulator.join(roomId, 'teacher', { camera: true });
    // The vendor starts the task and sends record_started, but our start never hears back;
    // the callback is held long enough to arrive after our answer.
    stack.emulator.setFaults({ start: { hangNext: 1, afterEffect: true }, callbacks: { delayMs: CALLBACK_DELAY_MS } });
    const startsBefore = stack.emulator.stats().requests.start;

    const response = await api.start({ room_id: roomId });
    expect(response.status, response.text).toBe(202);
    const task = response.body;
    expect(task.status).toBe('starting');
    expect(task.task_id).toBeNull();
    expect(task.last_upstream_error).toMatchObject({ operation: 'start', code: null });
    expect(task.failure).toBeNull();
    // start is never repeated: one recorder only.
    expect(stack.emulator.stats().requests.start - startsBefore).toBe(1);

    const vendorTask = await waitFor(
      () => stack.emulator.tasks().find((t) => t.userId === task.record_user_id),
      (t) => t !== undefined,
      'the vendor task of the unanswered start',
    );
    const recording = await api.waitForStatus(task.record_user_id, 'recording');
    expect(recording.task_id).toBe(vendorTask?.taskId);
    expect(recording.timeline.map((entry) => [entry.status, entry.source])).toEqual([
      ['starting', 'api'],
      ['recording', 'callback'],
    ]);
    expect(recording.callbacks.record_started?.count).toBe(1);
    stack.emulator.clearFaults();
    // The task id the callback brought is a key like any other.
    expect((await api.task(vendorTask?.taskId as string)).record_user_id).toBe(task.record_user_id);

    const stopped = await api.stop(vendorTask?.taskId as string);
    expect(stopped.status, stopped.text).toBe(202);
    const finished = await api.waitForStatus(task.record_user_id, 'finished');
    expect(finished.timeline.map((entry) => entry.status)).toEqual(['starting', 'recording', 'stopping', 'finished']);
    expect(finished.videos.map((video) => video.kind).sort()).toEqual(['camera', 'whiteboard']);
    expect(stack.emulator.stats().requests.start - startsBefore).toBe(1);
  });

  it('fails the task as start_unconfirmed when nothing ever names it, and refuses to stop it meanwhile', async () => {
    const roomId = 3002;
    stack.emulator.join(roomId, 'teacher', { camera: true });
    // Hung and without effect: the vendor created nothing.
    stack.emulator.setFaults({ start: { hangNext: 1 } });
    const response = await api.start({ room_id: roomId });
    expect(response.status, response.text).toBe(202);
    const task = response.body;
    expect(task.status).toBe('starting');
    expect(task.task_id).toBeNull();
    expect(stack.emulator.tasks().some((t) => t.userId === task.record_user_id)).toBe(false);

    // No vendor task id to stop yet: 409, and the vendor is not called.
    const stopsBefore = stack.emulator.stats().requests.stop;
    const early = await api.stop(task.record_user_id);
    expect(early.status, early.text).toBe(409);
    expect(early.body.error.code).toBe('conflict');
    expectNoStackTrace(early.text);
    expect(stack.emulator.stats().requests.stop).toBe(stopsBefore);

    const failed = await api.waitForStatus(task.record_user_id, 'failed', 20_000);
    expect(failed.failure?.reason).toBe('start_unconfirmed');
    expect(failed.task_id).toBeNull();
    expect(failed.timeline.map((entry) => [entry.status, entry.source])).toEqual([
      ['starting', 'api'],
      ['failed', 'reconciler'],
    ]);
    // Nothing to query without a task id.
    expect(failed.polls).toBe(0);
    const listed = await api.list(roomId);
    expect(listed.body.recordings.map((t) => [t.record_user_id, t.status, t.failure?.reason])).toEqual([
      [task.record_user_id, 'failed', 'start_unconfirmed'],
    ]);
    // A stop of the failed task is not an error and calls nobody.
    const late = await api.stop(task.record_user_id);
    expect(late.status, late.text).toBe(202);
    expect(late.body.status).toBe('failed');
    expect(stack.emulator.stats().requests.stop).toBe(stopsBefore);
  });
});

describe('a start_unconfirmed failure', () => {
  it('is recovered by a record_finished that comes after the deadline', async () => {
    const roomId = 3004;
    // The vendor starts (our start hears nothing), its record_started is lost, nobody publishes so
    // it auto-stops the room, and its record_finished comes only after our start deadline.
    const lateByMs = (START_DEADLINE_SECONDS + 2) * 1000;
    stack.emulator.setFaults({ start: { hangNext: 1, afterEffect: true }, callbacks: { dropNext: 1, delayMs: lateByMs } });
    const task = (await api.start({ room_id: roomId })).body;
    expect(task.status).toBe('starting');

    const failed = await api.waitForStatus(task.record_user_id, 'failed', 20_000);
    expect(failed.failure?.reason).toBe('start_unconfirmed');
    const vendorTask = stack.emulator.tasks().find((t) => t.userId === task.record_user_id);
    expect(vendorTask?.endReason).toBe('idle');

    const recovered = await api.waitForStatus(task.record_user_id, 'finished', 20_000);
    expect(recovered.task_id).toBe(vendorTask?.taskId);
    expect(recovered.failure).toBeNull();
    expect(recovered.timeline.map((entry) => [entry.status, entry.source])).toEqual([
      ['starting', 'api'],
      ['failed', 'reconciler'],
      ['finished', 'callback'],
    ]);
    expect(recovered.videos.map((video) => video.kind)).toEqual(['whiteboard']);
    expect(recovered.callbacks.record_finished?.count).toBe(1);
  });
});

describe('a stop of a task the vendor already ended (20011)', () => {
  it('answers 202 and fetches the result', async () => {
    const roomId = 3003;
    // Nobody publishes: the vendor auto-stops the room.
    const task = await api.started({ room_id: roomId });
    const taskId = task.task_id as string;
    await api.waitForStatus(task.record_user_id, 'recording');
    // Its record_finished is lost, so that our side still believes it is recording.
    stack.emulator.setFaults({ callbacks: { dropNext: 1 } });
    await waitFor(() => stack.emulator.task(taskId), (t) => t?.state === 'finished', 'the vendor to auto-stop the idle room', 15_000);
    expect(stack.emulator.task(taskId)?.endReason).toBe('idle');
    expect((await api.task(taskId)).status).toBe('recording');
    const answered20011Before = stack.emulator.stats().answers['20011'] ?? 0;

    const stopped = await api.stop(taskId);
    expect(stopped.status, stopped.text).toBe(202);
    expect(stopped.body.status).toBe('stopping');
    expect(stopped.body.timeline.at(-1)?.detail).toContain('20011');
    expect(stopped.body.failure).toBeNull();
    expect(stack.emulator.stats().answers['20011'] ?? 0).toBe(answered20011Before + 1);

    const finished = await api.waitForStatus(taskId, 'finished');
    expect(finished.timeline.at(-1)?.source).toBe('query');
    expect(finished.polls).toBeGreaterThanOrEqual(1);
    expect(finished.callbacks.record_finished).toBeNull();
    expect(finished.videos.map((video) => [video.kind, video.user_id])).toEqual([['whiteboard', '']]);
    expect(finished.videos[0]?.file_id).toBe(stack.emulator.task(taskId)?.videos[0]?.video_id);
    expect(finished.stop_time).not.toBeNull();
  });
});
