/**
 * The recording task as the domain sees it: one attempt to record one class, from our
 * `start` request to the vendor's final result.
 *
 * Field names are camelCase here; storage adapters map them to their own names
 * (lib/adapters/dynamo-task-store.ts uses snake_case attributes).
 */
import type { TicOperation } from '../tic/errors';
import type { Track } from '../tic/tracks';
import { RECORD_USER_ID_PREFIX } from '../tic/user-id';

/**
 * Where a task is. Status only moves forward, in this order:
 * starting → prepared → recording → stopping → finished | failed.
 *
 * - `starting`: stored, our `start` sent or about to be; no vendor task id known yet
 *   (or `start` went unanswered: see `startRecording` in service.ts).
 * - `prepared`: the vendor accepted `start` and gave a task id.
 * - `recording`: the vendor says recording began (`record_started` or a query answer).
 * - `stopping`: we asked the vendor to stop (or it had already ended: 20011).
 * - `finished` / `failed`: terminal; the result is known.
 */
export type TaskStatus = 'starting' | 'prepared' | 'recording' | 'stopping' | 'finished' | 'failed';

/** The order of statuses: a transition may only go to a higher rank. The two terminal statuses share a rank. */
export const STATUS_RANK: Readonly<Record<TaskStatus, number>> = {
  starting: 0,
  prepared: 1,
  recording: 2,
  stopping: 3,
  finished: 4,
  failed: 4,
};

export const ALL_STATUSES: readonly TaskStatus[] = ['starting', 'prepared', 'recording', 'stopping', 'finished', 'failed'];

export const OPEN_STATUSES: readonly TaskStatus[] = ['starting', 'prepared', 'recording', 'stopping'];

/** Whether the task's result is known (nothing but a recovery, see transitions.ts, changes it any more). */
export function isTerminal(status: TaskStatus): boolean {
  return status === 'finished' || status === 'failed';
}

/** Who caused a change of status. */
export type ChangeSource = 'api' | 'callback' | 'query' | 'reconciler' | 'sweep';

/** One change of status, in the order they happened. */
export interface TimelineEntry {
  status: TaskStatus;
  /** ISO-8601 with ms. */
  at: string;
  source: ChangeSource;
  detail?: string;
}

/** How often, and when, one kind of vendor callback arrived for this task. */
export interface CallbackArrivals {
  count: number;
  /** ISO-8601 with ms. */
  firstAt: string;
  lastAt: string;
}

export type CallbackKind = 'recordStarted' | 'recordFinished';

/** The last refusal or transport failure talking to the vendor about this task. */
export interface UpstreamErrorRecord {
  operation: TicOperation;
  /** The vendor's `error_code`; absent for a timeout or network failure. */
  code?: number;
  message: string;
  /** The `random` of the failed request: what the vendor's support asks for. */
  random: number;
  /** ISO-8601 with ms. */
  at: string;
}

/**
 * Why a task failed.
 * - `upstream_error`: a callback or query reported a failed recording (non-zero `error_code`).
 * - `start_refused`: the vendor answered `start` with an error code.
 * - `start_unconfirmed`: `start` went unanswered and no callback ever named our record user id
 *   before the start deadline (we cannot query without a task id).
 * - `deadline_exceeded`: the vendor never reported the expected progress before the deadline.
 */
export type FailureReason = 'upstream_error' | 'start_refused' | 'start_unconfirmed' | 'deadline_exceeded';

/** Failures that are our own verdict, not the vendor's: a later `record_finished` may still finish the task. */
export const RECOVERABLE_FAILURES: readonly FailureReason[] = ['start_unconfirmed', 'deadline_exceeded'];

export interface Failure {
  reason: FailureReason;
  detail: string;
  /** The vendor's `error_code` when the vendor reported the failure. */
  code?: number;
}

/** What the pending reconciler check waits for: the recording to begin, or to end. */
export type CheckPhase = 'start' | 'stop';

/** The reconciler's chain of checks for this task (see service.ts `runCheck`). */
export interface CheckState {
  /**
   * Number of the one live check message. A message whose attempt differs is from a dead
   * chain and is dropped: this is what keeps two chains from running at once.
   */
  attempt: number;
  phase: CheckPhase;
  /** The delay used for the pending check; the next one backs off from it. */
  delaySeconds: number;
  /**
   * When the next check is due (epoch ms), absent once the task is terminal. The sweep
   * re-enqueues a check for an open task when this is overdue by its grace period.
   */
  nextAtMs?: number;
}

export interface WhiteboardSize {
  width: number;
  height: number;
}

/** The vendor's body of the callback that changed the task, kept for inspection (truncated, see transitions.ts). */
export interface RawCallbacks {
  recordStarted?: string;
  recordFinished?: string;
}

export interface Task {
  /** Our `tic_record_user_{roomId}_{n}`: the task's identity, known before the vendor answers. */
  recordUserId: string;
  /** The vendor's task id, once known. */
  taskId?: string;
  roomId: number;
  groupId?: string;
  whiteboard?: WhiteboardSize;
  status: TaskStatus;
  /** Incremented by every write. */
  version: number;
  /** ISO-8601 with ms. */
  createdAt: string;
  updatedAt: string;
  timeline: TimelineEntry[];
  /** The recorded files, normalized; empty until the result is known (and a valid empty result, CONTRACT.md item 9). */
  tracks: Track[];
  /** The vendor's `start_time` / `stop_time`, Unix seconds; never used for durations (CONTRACT.md item 8). */
  startTimeSeconds?: number;
  stopTimeSeconds?: number;
  callbacks: { recordStarted?: CallbackArrivals; recordFinished?: CallbackArrivals };
  /** How many `query` calls the reconciler made for this task (answered or not). */
  polls: number;
  lastUpstreamError?: UpstreamErrorRecord;
  failure?: Failure;
  check: CheckState;
  /** When the reconciler gives up waiting for the current phase (epoch ms). */
  deadlineAtMs: number;
  /** Set when the task becomes terminal: storage may delete it after this (epoch seconds). */
  expiresAtSeconds?: number;
  rawCallbacks: RawCallbacks;
  /** Hash of the caller's idempotency key, when one was given. */
  idemKeyHash?: string;
}

/** Whether an id given to our API is a record user id rather than a vendor task id (our API's `{id}` may be either). */
export function isRecordUserId(id: string): boolean {
  return id.startsWith(RECORD_USER_ID_PREFIX);
}
