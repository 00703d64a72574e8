/**
 * The task lifecycle (prepared → recording → finished), the idle auto-stop, the kick-out
 * of a reused user_id, and the videos cut from the room's stream history. Raw HTTP.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../emulator/index';
import { CallbackReceiver, FAST, callVendor, control, sleep, startTask, waitFor } from './helpers';

let emulator: RunningEmulator;
let receiver: CallbackReceiver;
const IDLE_STOP_MS = 300;

beforeAll(async () => {
  emulator = await startEmulator({ ...FAST, idleStopMs: IDLE_STOP_MS });
  receiver = await new CallbackReceiver().start();
});
afterAll(async () => {
  await emulator.close();
  await receiver.close();
});
beforeEach(async () => {
  emulator.reset();
  receiver.received.length = 0;
  await callVendor(emulator, { path: 'callback', body: { callback: `${receiver.url}/tic` } });
});

const query = async (taskId: string) => (await callVendor(emulator, { path: 'query', body: { task_id: taskId } })).json;

describe('lifecycle', () => {
  it('goes prepared → recording → finished, answering query in the shape of document 4.3', async () => {
    await control(emulator, 'POST', '/rooms/1234/users/teacher/join', {});
    const taskId = await startTask(emulator, 1234);
    expect(taskId).toMatch(/^[a-z][a-z0-9]{19}$/);
    const prepared = await query(taskId);
    expect(prepared).toEqual({
      error_code: 0,
      error_msg: 'ok',
      task_id: taskId,
      status: 'prepared',
      start_time: 0,
      stop_time: 0,
      record_user_id: 'tic_record_user_1234_01',
      room_id: 1234,
      group_id: '1234',
      video_info: [],
    });
    const recording = await waitFor(async () => {
      const answer = await query(taskId);
      return answer['status'] === 'recording' && answer;
    });
    expect(recording['start_time']).toBeGreaterThan(0);
    expect(recording['video_info']).toEqual([]);
    await waitFor(() => receiver.callbacks('record_started').length === 1);

    await callVendor(emulator, { path: 'stop', body: { task_id: taskId } });
    const finished = await waitFor(async () => {
      const answer = await query(taskId);
      return answer['status'] === 'finished' && answer;
    });
    expect(finished['stop_time']).toBeGreaterThanOrEqual(finished['start_time'] as number);
    const videos = finished['video_info'] as Record<string, unknown>[];
    expect(videos.map((video) => [video['video_type'], video['user_id']])).toEqual([
      [0, 'teacher'],
      [2, ''],
    ]);
    for (const video of videos) {
      expect(Object.keys(video).sort()).toEqual(
        ['user_id', 'video_duration', 'video_format', 'video_id', 'video_play_time', 'video_size', 'video_type', 'video_url'].sort(),
      );
      expect(video['video_format']).toBe('mp4');
      expect(video['video_id']).toMatch(/^[0-9]+$/);
      expect(video['video_size']).toBeGreaterThan(0);
      const file = await fetch(video['video_url'] as string);
      expect(file.status).toBe(200);
      expect(file.headers.get('content-type')).toBe('video/mp4');
      expect(Buffer.from(await file.arrayBuffer()).subarray(4, 8).toString('latin1')).toBe('ftyp');
    }
    const finishedCallback = await waitFor(() => receiver.callbacks('record_finished')[0]);
    expect(finishedCallback.body['video_info']).toEqual(videos);
    expect(finishedCallback.body['start_time']).toBe(finished['start_time']);
    expect(finishedCallback.body['stop_time']).toBe(finished['stop_time']);
  });

  it('keeps group_id and whiteboard as given', async () => {
    const { json } = await callVendor(emulator, {
      path: 'start',
      body: { room_id: 55, group_id: 'class-55', user_id: 'tic_record_user_55_a', user_sig: 's', whiteboard: { width: 1920, height: 1080 } },
    });
    const task = emulator.task(json['task_id'] as string)!;
    expect(task.groupId).toBe('class-55');
    expect(task.whiteboard).toEqual({ width: 1920, height: 1080 });
    expect(JSON.stringify(task)).not.toContain('user_sig');
  });

  it('a stop before recording began finishes with an empty recording (only the zero-length whiteboard)', async () => {
    const slowStart = await startEmulator({ ...FAST, startDelayMs: 10_000 });
    try {
      const taskId = await startTask(slowStart, 9);
      await callVendor(slowStart, { path: 'stop', body: { task_id: taskId } });
      const task = await waitFor(() => slowStart.task(taskId)?.state === 'finished' && slowStart.task(taskId));
      expect(task.recordingStartMs).toBe(task.recordingStopMs);
      expect(task.videos.map((video) => video.video_type)).toEqual([2]);
    } finally {
      await slowStart.close();
    }
  });
});

describe('videos from the room history', () => {
  it('places each stream segment at its offset from the start of the recording, cut at stop', async () => {
    const room = 4321;
    await control(emulator, 'POST', `/rooms/${room}/users/teacher/join`, { camera: true });
    const taskId = await startTask(emulator, room);
    const recordingStartMs = (await waitFor(() => emulator.task(taskId)?.recordingStartMs))!;
    await sleep(60);
    await control(emulator, 'POST', `/rooms/${room}/users/student/join`, { camera: true });
    await sleep(60);
    await control(emulator, 'POST', `/rooms/${room}/users/teacher/screen`, { on: true });
    await sleep(60);
    await control(emulator, 'POST', `/rooms/${room}/users/student/leave`);
    await callVendor(emulator, { path: 'stop', body: { task_id: taskId } });
    const task = await waitFor(() => emulator.task(taskId)?.state === 'finished' && emulator.task(taskId));

    const history = (await control(emulator, 'GET', `/rooms/${room}`)).json;
    const segment = (userId: string, kind: string) =>
      history.segments.find((candidate: { userId: string; kind: string }) => candidate.userId === userId && candidate.kind === kind);
    const stopMs = task.recordingStopMs!;
    const video = (userId: string, type: number) => task.videos.find((candidate) => candidate.user_id === userId && candidate.video_type === type)!;

    // The teacher's camera was on before recording began: it starts at offset 0 and runs to the stop.
    expect(video('teacher', 0).video_play_time).toBe(0);
    expect(video('teacher', 0).video_duration).toBe(stopMs - recordingStartMs);
    // The student's camera: from the join to the leave, offset from the recording start.
    const student = segment('student', 'camera');
    expect(video('student', 0).video_play_time).toBe(student.startMs - recordingStartMs);
    expect(video('student', 0).video_duration).toBe(student.endMs - student.startMs);
    expect(video('student', 0).video_play_time).toBeGreaterThanOrEqual(60);
    // The screen share is still on at stop: cut there.
    const screen = segment('teacher', 'screen');
    expect(screen.endMs).toBeNull();
    expect(video('teacher', 1).video_play_time).toBe(screen.startMs - recordingStartMs);
    expect(video('teacher', 1).video_duration).toBe(stopMs - screen.startMs);
    // The whiteboard spans the whole recording.
    expect(video('', 2)).toMatchObject({ video_play_time: 0, video_duration: stopMs - recordingStartMs });
    expect(task.videos).toHaveLength(4);
  });

  it('control API refuses a stream change of a user who is not in the room, and a bad body', async () => {
    expect((await control(emulator, 'POST', '/rooms/77/users/ghost/camera', { on: true })).status).toBe(409);
    expect((await control(emulator, 'POST', '/rooms/77/users/ghost/join', { camera: 'yes' })).status).toBe(400);
    expect((await control(emulator, 'POST', '/rooms/abc/users/ghost/join', {})).status).toBe(400);
    expect((await control(emulator, 'GET', '/rooms/77/users/ghost/join')).status).toBe(405);
    const missing = await control(emulator, 'GET', '/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.json.error_code).toBe(20003);
  });
});

describe('idle auto-stop', () => {
  it('stops a recording room with no uplink; it finishes normally and a later stop gets 20011', async () => {
    const room = 600;
    await control(emulator, 'POST', `/rooms/${room}/users/teacher/join`, {});
    const taskId = await startTask(emulator, room);
    await waitFor(() => emulator.task(taskId)?.state === 'recording');
    await control(emulator, 'POST', `/rooms/${room}/users/teacher/camera`, { on: false });
    const task = await waitFor(() => emulator.task(taskId)?.state === 'finished' && emulator.task(taskId), 5_000);
    expect(task.endReason).toBe('idle');
    // The recording ends exactly idleStopMs after the last stream went off.
    const cameraOffAtMs = emulator.room(room).segments[0]!.endMs!;
    expect(task.recordingStopMs).toBe(cameraOffAtMs + IDLE_STOP_MS);
    expect(task.videos.map((video) => video.video_type).sort()).toEqual([0, 2]);
    const finished = await waitFor(() => receiver.callbacks('record_finished')[0]);
    expect(finished.body['error_code']).toBe(0);
    expect((await callVendor(emulator, { path: 'stop', body: { task_id: taskId } })).json['error_code']).toBe(20011);
    expect(emulator.stats().tasks.autoStopped).toBe(1);
  });

  it('does not stop a room whose uplink comes back in time', async () => {
    const room = 601;
    await control(emulator, 'POST', `/rooms/${room}/users/teacher/join`, {});
    const taskId = await startTask(emulator, room);
    await waitFor(() => emulator.task(taskId)?.state === 'recording');
    await control(emulator, 'POST', `/rooms/${room}/users/teacher/camera`, { on: false });
    await sleep(IDLE_STOP_MS / 3);
    await control(emulator, 'POST', `/rooms/${room}/users/teacher/camera`, { on: true });
    await sleep(IDLE_STOP_MS * 2);
    expect(emulator.task(taskId)?.state).toBe('recording');
  });
});

describe('a reused user_id kicks the earlier recorder out', () => {
  it('the earlier task fails: record_finished with 20099 and no videos, query says finished', async () => {
    const room = 700;
    await control(emulator, 'POST', `/rooms/${room}/users/teacher/join`, {});
    const first = await startTask(emulator, room, 'same');
    await waitFor(() => emulator.task(first)?.state === 'recording');
    const second = await startTask(emulator, room, 'same');
    expect(second).not.toBe(first);
    expect(emulator.task(first)).toMatchObject({ state: 'failed', endReason: 'kicked', videos: [] });
    const firstAnswer = await query(first);
    expect(firstAnswer).toMatchObject({ status: 'finished', video_info: [] });
    const kicked = await waitFor(() => receiver.callbacks('record_finished').find((request) => request.body['task_id'] === first));
    expect(kicked.body).toMatchObject({ error_code: 20099, error_msg: 'kicked out: user_id reused', video_info: [] });
    expect((await callVendor(emulator, { path: 'stop', body: { task_id: first } })).json['error_code']).toBe(20011);
    expect(emulator.task(second)?.state).not.toBe('failed');
  });

  it('two different user_ids record the same room side by side', async () => {
    const room = 701;
    const first = await startTask(emulator, room, 'a');
    const second = await startTask(emulator, room, 'b');
    await waitFor(() => emulator.task(first)?.state === 'recording' && emulator.task(second)?.state === 'recording');
    expect(emulator.stats().tasks.kickedOut).toBe(0);
  });

  it('a user_id whose task has finished may be used again without kicking anyone', async () => {
    const room = 702;
    const first = await startTask(emulator, room, 'x');
    await callVendor(emulator, { path: 'stop', body: { task_id: first } });
    await waitFor(() => emulator.task(first)?.state === 'finished');
    await startTask(emulator, room, 'x');
    expect(emulator.task(first)?.state).toBe('finished');
    expect(emulator.stats().tasks.kickedOut).toBe(0);
  });
});
