/**
 * Small fakes of the recording domain's ports, for its unit tests: a clock the test moves,
 * a queue that records what was sent, and a vendor that follows the documented lifecycle
 * on the fake clock. The real vendor path is proven against the emulator over HTTP.
 */
import type { CallReceipt, QueryResult, StartRecordingInput, StartRecordingResult, TicApi } from '../../lib/tic/api';
import { TicError, TicErrorCode, type TicOperation } from '../../lib/tic/errors';
import type { RecordFinishedCallback, RecordStartedCallback, VideoInfo } from '../../lib/tic/wire';
import type { CheckMessage } from '../../lib/recording/check-message';
import type { CheckQueue, Clock, Metrics } from '../../lib/recording/ports';
import type { Task } from '../../lib/recording/task';

export class FakeClock implements Clock {
  constructor(public now = Date.parse('2025-03-01T08:00:00.000Z')) {}
  nowMs(): number {
    return this.now;
  }
  advanceSeconds(seconds: number): void {
    this.now += seconds * 1000;
  }
}

export interface SentCheck {
  message: CheckMessage;
  delaySeconds: number;
  /** When it becomes visible, on the fake clock. */
  dueAtMs: number;
}

export class FakeQueue implements CheckQueue {
  readonly sent: SentCheck[] = [];
  failNext = 0;
  constructor(private readonly clock: FakeClock) {}
  async send(message: CheckMessage, delaySeconds: number): Promise<void> {
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error('queue unavailable');
    }
    this.sent.push({ message, delaySeconds, dueAtMs: this.clock.nowMs() + delaySeconds * 1000 });
  }
  /** Removes and returns the message due first (like a consumer would receive it). */
  takeNext(): SentCheck | undefined {
    if (this.sent.length === 0) return undefined;
    let index = 0;
    this.sent.forEach((item, i) => {
      if (item.dueAtMs < this.sent[index]!.dueAtMs) index = i;
    });
    return this.sent.splice(index, 1)[0];
  }
}

export class FakeMetrics implements Metrics {
  readonly failedByDeadline: Task[] = [];
  resumed = 0;
  taskFailedByDeadline(task: Task): void {
    this.failedByDeadline.push(task);
  }
  checksResumedBySweep(count: number): void {
    this.resumed += count;
  }
}

export function ticError(operation: TicOperation, code: number | undefined, kind: TicError['kind'] = 'upstream'): TicError {
  return new TicError({
    operation,
    code,
    upstreamMessage: code === undefined ? 'timed out' : `refused ${code}`,
    random: 4242,
    kind,
    retryable: kind !== 'upstream',
  });
}

interface VendorTask {
  taskId: string;
  input: StartRecordingInput;
  startedAtMs: number;
  stopRequestedAtMs?: number;
}

/** Vendor timings, ms on the fake clock (the emulator's defaults). */
const START_DELAY_MS = 2000;
const STOP_DELAY_MS = 2000;
const PROCESSING_DELAY_MS = 1000;

export const SAMPLE_VIDEOS: VideoInfo[] = [
  {
    video_play_time: 0,
    video_size: 1_400_000,
    video_format: 'mp4',
    video_duration: 22_504,
    video_url: 'https://vod.example/a.mp4',
    video_id: 'f1',
    video_type: 0,
    user_id: 'teacher',
  },
  {
    video_play_time: 300,
    video_size: 2_900_000,
    video_format: 'mp4',
    video_duration: 48_832,
    video_url: 'https://vod.example/wb.mp4',
    video_id: 'f2',
    video_type: 2,
    user_id: '',
  },
];

/**
 * A vendor on the fake clock: prepared → recording 2 s after start → finished 3 s after stop.
 * `failNext` scripts errors per operation; `calls` counts them.
 */
export class FakeVendor implements TicApi {
  readonly calls = { start: 0, stop: 0, query: 0, setCallback: 0 };
  readonly tasks = new Map<string, VendorTask>();
  readonly failNext: Partial<Record<'start' | 'stop' | 'query', TicError[]>> = {};
  /** When set, `start` records the task but throws this (an answer lost on the way back). */
  loseStartAnswer: TicError | undefined;
  private counter = 0;

  constructor(private readonly clock: FakeClock) {}

  private failure(operation: 'start' | 'stop' | 'query'): TicError | undefined {
    return this.failNext[operation]?.shift();
  }

  async start(input: StartRecordingInput): Promise<StartRecordingResult> {
    this.calls.start += 1;
    const failure = this.failure('start');
    if (failure !== undefined) throw failure;
    this.counter += 1;
    const taskId = `vendortask${this.counter}`;
    this.tasks.set(taskId, { taskId, input, startedAtMs: this.clock.nowMs() });
    if (this.loseStartAnswer !== undefined) throw this.loseStartAnswer;
    return { taskId, random: 1 };
  }

  async stop(taskId: string): Promise<CallReceipt> {
    this.calls.stop += 1;
    const failure = this.failure('stop');
    if (failure !== undefined) throw failure;
    const task = this.tasks.get(taskId);
    if (task === undefined) throw ticError('stop', TicErrorCode.DATA_READ_FAILED);
    if (task.stopRequestedAtMs !== undefined) throw ticError('stop', TicErrorCode.TASK_ALREADY_ENDED);
    task.stopRequestedAtMs = this.clock.nowMs();
    return { random: 2 };
  }

  /** Ends a task without a stop (the vendor's auto-stop of a room with no uplink). */
  autoStop(taskId: string): void {
    const task = this.tasks.get(taskId)!;
    task.stopRequestedAtMs = this.clock.nowMs();
  }

  finishedAtMs(taskId: string): number | undefined {
    const task = this.tasks.get(taskId);
    return task?.stopRequestedAtMs === undefined ? undefined : task.stopRequestedAtMs + STOP_DELAY_MS + PROCESSING_DELAY_MS;
  }

  statusOf(taskId: string): 'prepared' | 'recording' | 'finished' {
    const task = this.tasks.get(taskId)!;
    const now = this.clock.nowMs();
    const finishedAt = this.finishedAtMs(taskId);
    if (finishedAt !== undefined && now >= finishedAt) return 'finished';
    return now >= task.startedAtMs + START_DELAY_MS ? 'recording' : 'prepared';
  }

  async query(taskId: string): Promise<QueryResult> {
    this.calls.query += 1;
    const failure = this.failure('query');
    if (failure !== undefined) throw failure;
    const task = this.tasks.get(taskId);
    if (task === undefined) throw ticError('query', TicErrorCode.DATA_READ_FAILED);
    const status = this.statusOf(taskId);
    return {
      random: 3,
      answer: {
        error_code: 0,
        error_msg: '',
        task_id: taskId,
        status,
        start_time: Math.floor(task.startedAtMs / 1000),
        stop_time: status === 'finished' ? Math.floor(task.stopRequestedAtMs! / 1000) : 0,
        record_user_id: task.input.userId,
        room_id: task.input.roomId,
        group_id: task.input.groupId ?? String(task.input.roomId),
        video_info: status === 'finished' ? SAMPLE_VIDEOS : [],
      },
    };
  }

  async setCallback(): Promise<CallReceipt> {
    this.calls.setCallback += 1;
    return { random: 4 };
  }

  startedCallback(taskId: string, errorCode = 0): RecordStartedCallback {
    const task = this.tasks.get(taskId)!;
    return {
      expire_time: 1,
      error_code: errorCode,
      error_msg: errorCode === 0 ? '' : 'recorder failed',
      timestamp: Math.floor(this.clock.nowMs() / 1000),
      task_id: taskId,
      callback_type: 'record_started',
      record_user_id: task.input.userId,
      room_id: task.input.roomId,
      group_id: task.input.groupId ?? String(task.input.roomId),
    };
  }

  finishedCallback(taskId: string, errorCode = 0, videos: VideoInfo[] = SAMPLE_VIDEOS): RecordFinishedCallback {
    const task = this.tasks.get(taskId)!;
    return {
      expire_time: 1,
      error_code: errorCode,
      error_msg: errorCode === 0 ? '' : 'kicked out: user_id reused',
      timestamp: Math.floor(this.clock.nowMs() / 1000),
      task_id: taskId,
      callback_type: 'record_finished',
      record_user_id: task.input.userId,
      room_id: task.input.roomId,
      group_id: task.input.groupId ?? String(task.input.roomId),
      start_time: Math.floor(task.startedAtMs / 1000),
      stop_time: Math.floor((task.stopRequestedAtMs ?? this.clock.nowMs()) / 1000),
      video_info: videos,
    };
  }
}
