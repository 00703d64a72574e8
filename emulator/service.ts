/**
 * Recording tasks and their lifecycle, as the vendor document describes it (2.3, 2.4, 4.5):
 *
 *   prepared --startDelayMs--> recording --stop + stopDelayMs--> processing --processingDelayMs--> finished
 *
 * plus the two ways a task ends without a stop: a room with no uplink for `idleStopMs`
 * is stopped automatically (and finishes normally), and a second start with the same
 * `user_id` in the same room kicks the earlier recorder out (it fails at once).
 */
import { randomBytes } from 'node:crypto';
import type { QueryAnswer, VideoInfo } from '../lib/tic/wire';
import type { CallbackDispatcher, CallbackPayload } from './callbacks';
import { ApiError, Code } from './errors';
import type { FaultBoard } from './faults';
import type { ResolvedOptions } from './options';
import type { StartInput } from './requests';
import { Rooms } from './rooms';
import type { Scheduler } from './scheduler';
import type { EmulatorStats } from './stats';
import { VideoCatalog } from './videos';

/** Internal states; `stopping` and `processing` read as `recording`, `failed` as `finished` (no such vendor status). */
export type TaskState = 'prepared' | 'recording' | 'stopping' | 'processing' | 'finished' | 'failed';

export type EndReason = 'stopped' | 'idle' | 'kicked';

/** What the kicked-out task's record_finished callback reports (the vendor does not document it). */
export const KICKED_OUT = { code: Code.INTERNAL, message: 'kicked out: user_id reused' } as const;

/** A task as `GET /_emulator/tasks/{taskId}` shows it (never the user_sig). */
export interface TaskSnapshot {
  taskId: string;
  roomId: number;
  groupId: string;
  userId: string;
  whiteboard: { width: number; height: number };
  state: TaskState;
  createdAtMs: number;
  recordingStartMs: number | undefined;
  stopRequestedAtMs: number | undefined;
  recordingStopMs: number | undefined;
  finishedAtMs: number | undefined;
  endReason: EndReason | undefined;
  errorCode: number;
  errorMsg: string;
  /** The videos the task reports (or will report, once processed: computed when recording stops). */
  videos: VideoInfo[];
}

interface Task extends TaskSnapshot {
  timers: { start?: NodeJS.Timeout | undefined; stop?: NodeJS.Timeout | undefined; idle?: NodeJS.Timeout | undefined; finish?: NodeJS.Timeout | undefined };
}

const TASK_ID_LENGTH = 20;
const TASK_ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** Vendor-looking task ids: 20 characters of [a-z0-9], starting with a letter (like `g68cee8e90jcq4ogg8jb`). */
function newTaskId(): string {
  const bytes = randomBytes(TASK_ID_LENGTH);
  let id = TASK_ID_ALPHABET[bytes[0]! % 26]!;
  for (let index = 1; index < TASK_ID_LENGTH; index += 1) id += TASK_ID_ALPHABET[bytes[index]! % TASK_ID_ALPHABET.length]!;
  return id;
}

const toSeconds = (ms: number | undefined) => (ms === undefined ? 0 : Math.floor(ms / 1000));

export class RecordingService {
  private readonly tasks = new Map<string, Task>();
  readonly rooms: Rooms;
  readonly videos: VideoCatalog;

  constructor(
    private readonly options: ResolvedOptions,
    private readonly scheduler: Scheduler,
    private readonly callbacks: CallbackDispatcher,
    private readonly faults: FaultBoard,
    private readonly stats: () => EmulatorStats,
    baseUrl: () => string,
  ) {
    this.rooms = new Rooms((roomId) => this.watchIdle(roomId));
    this.videos = new VideoCatalog(baseUrl);
  }

  reset(): void {
    this.tasks.clear();
    this.rooms.reset();
    this.videos.reset();
  }

  snapshots(): TaskSnapshot[] {
    return [...this.tasks.values()].map(snapshotOf);
  }

  snapshot(taskId: string): TaskSnapshot | undefined {
    const task = this.tasks.get(taskId);
    return task && snapshotOf(task);
  }

  start(input: StartInput): string {
    const nowMs = Date.now();
    for (const earlier of this.tasks.values()) {
      if (earlier.roomId === input.roomId && earlier.userId === input.userId && isInRoom(earlier)) this.kickOut(earlier, nowMs);
    }
    const task: Task = {
      taskId: newTaskId(),
      roomId: input.roomId,
      groupId: input.groupId,
      userId: input.userId,
      whiteboard: input.whiteboard,
      state: 'prepared',
      createdAtMs: nowMs,
      recordingStartMs: undefined,
      stopRequestedAtMs: undefined,
      recordingStopMs: undefined,
      finishedAtMs: undefined,
      endReason: undefined,
      errorCode: Code.OK,
      errorMsg: '',
      videos: [],
      timers: {},
    };
    this.tasks.set(task.taskId, task);
    this.stats().tasks.started += 1;
    task.timers.start = this.scheduler.after(this.options.startDelayMs, () => this.beginRecording(task));
    return task.taskId;
  }

  /**
   * Stops a task: recording ends `stopDelayMs` later. A second stop while the first is
   * still pending is accepted and changes nothing; a stop once recording has ended
   * (stopped, auto-stopped, kicked out) is 20011.
   */
  stop(taskId: string): void {
    const task = this.require(taskId);
    if (task.state === 'stopping') return;
    if (!isInRoom(task)) throw new ApiError(Code.TASK_ALREADY_ENDED, 'task already ended');
    this.stats().tasks.stopped += 1;
    task.stopRequestedAtMs = Date.now();
    task.state = 'stopping';
    this.scheduler.cancel(task.timers.idle);
    task.timers.stop = this.scheduler.after(this.options.stopDelayMs, () => this.endRecording(task, Date.now(), 'stopped'));
  }

  /** The answer of `query`, shaped as document 4.3. */
  query(taskId: string): QueryAnswer {
    const task = this.require(taskId);
    const ended = task.state === 'finished' || task.state === 'failed';
    const started = task.recordingStartMs !== undefined;
    return {
      error_code: Code.OK,
      error_msg: 'ok',
      task_id: task.taskId,
      status: ended ? 'finished' : started ? 'recording' : 'prepared',
      start_time: toSeconds(task.recordingStartMs),
      stop_time: toSeconds(task.recordingStopMs),
      record_user_id: task.userId,
      room_id: task.roomId,
      group_id: task.groupId,
      video_info: ended ? task.videos : [],
    };
  }

  private require(taskId: string): Task {
    const task = this.tasks.get(taskId);
    if (!task) throw new ApiError(Code.DATA_READ_FAILED, 'data read failed: no such task_id');
    return task;
  }

  private beginRecording(task: Task): void {
    if (task.state !== 'prepared' && task.state !== 'stopping') return;
    task.recordingStartMs = Date.now();
    if (task.state === 'prepared') task.state = 'recording';
    this.sendCallback(task, { callback_type: 'record_started' });
    this.watchIdle(task.roomId);
  }

  /** Recording ends at `atMs`: the videos are cut, and the task finishes after processing. */
  private endRecording(task: Task, atMs: number, reason: EndReason): void {
    if (task.state !== 'recording' && task.state !== 'stopping') return;
    this.cancelTimers(task);
    // A stop that takes effect before the recorder got in records nothing.
    task.recordingStartMs ??= atMs;
    task.recordingStopMs = atMs;
    task.endReason = reason;
    task.state = 'processing';
    if (reason === 'idle') this.stats().tasks.autoStopped += 1;
    task.videos = this.videos.videosFor({ startMs: task.recordingStartMs, stopMs: atMs }, this.rooms.segments(task.roomId));
    task.timers.finish = this.scheduler.after(this.options.processingDelayMs, () => this.finish(task));
  }

  private finish(task: Task): void {
    task.state = 'finished';
    task.finishedAtMs = Date.now();
    this.stats().tasks.finished += 1;
    this.sendFinished(task);
  }

  /** The earlier recorder with the same user_id is pushed out of the room: that recording fails. */
  private kickOut(task: Task, nowMs: number): void {
    this.cancelTimers(task);
    task.recordingStartMs ??= nowMs;
    task.recordingStopMs = nowMs;
    task.finishedAtMs = nowMs;
    task.endReason = 'kicked';
    task.state = 'failed';
    task.errorCode = KICKED_OUT.code;
    task.errorMsg = KICKED_OUT.message;
    task.videos = [];
    this.stats().tasks.kickedOut += 1;
    this.sendFinished(task);
  }

  /**
   * Arms or disarms the idle auto-stop of every recording task in the room. The deadline
   * counts from when the uplink ended, or from the start of recording if later.
   */
  private watchIdle(roomId: number): void {
    const hasUplink = this.rooms.hasUplink(roomId);
    for (const task of this.tasks.values()) {
      if (task.roomId !== roomId || task.state !== 'recording' || task.recordingStartMs === undefined) continue;
      if (hasUplink) {
        this.scheduler.cancel(task.timers.idle);
        task.timers.idle = undefined;
        continue;
      }
      if (task.timers.idle !== undefined) continue;
      const idleSinceMs = Math.max(this.rooms.uplinkEndedAtMs(roomId) ?? 0, task.recordingStartMs);
      const deadlineMs = idleSinceMs + this.options.idleStopMs;
      task.timers.idle = this.scheduler.after(Math.max(0, deadlineMs - Date.now()), () => {
        task.timers.idle = undefined;
        this.endRecording(task, deadlineMs, 'idle');
      });
    }
  }

  private sendFinished(task: Task): void {
    this.sendCallback(task, {
      callback_type: 'record_finished',
      start_time: toSeconds(task.recordingStartMs),
      stop_time: toSeconds(task.recordingStopMs),
      video_info: task.videos,
    });
  }

  private sendCallback(
    task: Task,
    specific:
      | { callback_type: 'record_started' }
      | { callback_type: 'record_finished'; start_time: number; stop_time: number; video_info: VideoInfo[] },
  ): void {
    const common = {
      error_code: task.errorCode,
      error_msg: task.errorMsg,
      task_id: task.taskId,
      record_user_id: task.userId,
      room_id: task.roomId,
      group_id: task.groupId,
    };
    const payload: CallbackPayload = { ...common, ...specific };
    this.callbacks.send(payload, this.faults.forCallback(specific.callback_type));
  }

  private cancelTimers(task: Task): void {
    for (const timer of Object.values(task.timers)) this.scheduler.cancel(timer);
    task.timers = {};
  }
}

/** Whether the recorder is (or is about to be) in the room: its user_id is taken there. */
function isInRoom(task: Task): boolean {
  return task.state === 'prepared' || task.state === 'recording' || task.state === 'stopping';
}

function snapshotOf(task: Task): TaskSnapshot {
  const { timers: _timers, ...snapshot } = task;
  return structuredClone(snapshot);
}
