/**
 * THE recording state machine. Callbacks, query answers, API calls and the reconciler all
 * change a task through `planFor` + `onRejected` here, so "forward" is decided in one place.
 *
 * A change is a PLAN computed from the event alone, without reading the task first: a
 * condition (which statuses it may leave from, which vendor task id it must agree with,
 * which check attempt it expects) and the fields it writes. A store applies a plan
 * atomically or not at all (DynamoDB renders it as one conditional UpdateItem), so a
 * callback costs one write. When the condition fails, the store hands back the task as it
 * was, and `onRejected` decides what that means: a duplicate or a late event (at most a
 * second write that only counts the arrival), an unknown task, or a mismatch.
 *
 * Everything here is pure; `applyPlan` defines what a plan does, so that the in-memory store,
 * the DynamoDB store and the tests agree on one meaning.
 */
import type { Track } from '../tic/tracks';
import type { UpstreamTaskStatus } from '../tic/wire';
import type { RecordingSettings } from './settings';
import {
  OPEN_STATUSES,
  RECOVERABLE_FAILURES,
  isTerminal,
  type CallbackKind,
  type ChangeSource,
  type CheckPhase,
  type Failure,
  type FailureReason,
  type Task,
  type TaskStatus,
  type TimelineEntry,
  type UpstreamErrorRecord,
  type WhiteboardSize,
} from './task';

/** Raw callback bodies are kept for inspection up to this size each (one per callback type). */
export const MAX_RAW_CALLBACK_BYTES = 16 * 1024;

/**
 * The most tracks one task keeps. A DynamoDB item is at most 400 KB; a stored track is
 * ~300 bytes (the vendor's VideoInfo with its URL), so this leaves room for everything else.
 * A real class has a few dozen; a truncation is written into the timeline.
 */
export const MAX_TRACKS_PER_TASK = 600;

/**
 * The most bytes of tracks one task keeps, measured as the JSON of the vendor's VideoInfo
 * records (an upper bound of their DynamoDB size). The count cap alone does not bound the
 * item: a VideoInfo's URL has no length limit, and an item past 400 KB is refused outright,
 * so the result would never be stored. This leaves ~100 KB for the rest of the task (the two
 * raw callback bodies take at most 2 x MAX_RAW_CALLBACK_BYTES).
 */
export const MAX_TRACKS_BYTES = 300 * 1024;

/**
 * The vendor's `error_msg` (or a transport failure's message) is kept up to this size: it is
 * written into the failure, the timeline and the last upstream error, and a callback body may
 * be up to 1 MB, so an unbounded message could push the item past DynamoDB's 400 KB.
 */
export const MAX_VENDOR_MESSAGE_BYTES = 1024;

const MS_PER_SECOND = 1000;

/** A failed call to the vendor, as an event carries it (the plan adds the time). */
export type UpstreamFailure = Omit<UpstreamErrorRecord, 'at'>;

/** What a successful query answer tells, already normalized. */
export interface QueryAnswerFacts {
  taskId: string;
  status: UpstreamTaskStatus;
  startTimeSeconds: number;
  stopTimeSeconds: number;
  tracks: Track[];
}

/** Everything that can happen to a task. */
export type RecordingEvent =
  | { type: 'start_accepted'; taskId: string }
  | { type: 'start_refused'; error: UpstreamFailure }
  /** `start` timed out or lost its connection: the task stays `starting` (see service.ts). */
  | { type: 'start_unanswered'; error: UpstreamFailure }
  | { type: 'callback_started'; taskId: string; errorCode: number; errorMsg: string; raw: string }
  | {
      type: 'callback_finished';
      taskId: string;
      errorCode: number;
      errorMsg: string;
      startTimeSeconds: number;
      stopTimeSeconds: number;
      tracks: Track[];
      raw: string;
    }
  | { type: 'query_answer'; answer: QueryAnswerFacts }
  | { type: 'stop_requested' }
  /** `stop` answered 20011: the vendor had already ended the task (CONTRACT.md "Error codes"). */
  | { type: 'stop_already_ended' }
  /** A call about this task failed; recorded, status unchanged. */
  | { type: 'upstream_failed'; error: UpstreamFailure }
  | { type: 'deadline_exceeded'; reason: 'deadline_exceeded' | 'start_unconfirmed'; detail: string }
  /**
   * The reconciler (or the sweep) claims the next check: only if the task still has check
   * attempt `expectedAttempt` and the status the decision was based on.
   */
  | {
      type: 'check_scheduled';
      expectedAttempt: number;
      basedOnStatus: TaskStatus;
      phase: CheckPhase;
      delaySeconds: number;
      nextAtMs: number;
    };

export type RecordingEventType = RecordingEvent['type'];

/** What a transition needs besides the event: the time and the settings. */
export interface TransitionContext {
  nowMs: number;
  settings: RecordingSettings;
}

/** The condition of a plan; a store writes the plan only if all of it holds. */
export interface PlanCondition {
  /** Statuses the task may be in; absent: any status (plans that only record an arrival). */
  allowedFrom?: readonly TaskStatus[];
  /** A `failed` task with one of these reasons is also allowed (recovery, see `planFor`). */
  alsoFromFailedReasons?: readonly FailureReason[];
  /** The task has no vendor task id yet, or has this one. */
  expectTaskId?: string;
  /** The task's check attempt is exactly this. */
  expectCheckAttempt?: number;
}

/** Fields a plan writes. `null` removes the field. */
export interface PlanFields {
  status?: TaskStatus;
  taskId?: string;
  tracks?: Track[];
  startTimeSeconds?: number;
  stopTimeSeconds?: number;
  failure?: Failure | null;
  lastUpstreamError?: UpstreamErrorRecord;
  deadlineAtMs?: number;
  /** `null` when the task becomes terminal: no check is due any more. */
  nextCheckAtMs?: number | null;
  checkAttempt?: number;
  checkPhase?: CheckPhase;
  checkDelaySeconds?: number;
  expiresAtSeconds?: number;
  /** ISO-8601; every plan sets it. */
  updatedAt: string;
}

/**
 * One atomic change of a task. Every plan also increments `version`, and a store keeps its
 * "open" marker (the sweep's index) in step with `set.status`: present while the status is
 * open, removed when it becomes terminal.
 */
export interface TransitionPlan {
  event: RecordingEventType;
  condition: PlanCondition;
  set: PlanFields;
  timelineEntry?: TimelineEntry;
  increments?: { polls?: number; checkAttempt?: number };
  /** Count one arrival of a callback: count + 1, `lastAt` = at, `firstAt` kept if already set. */
  callbackArrival?: { kind: CallbackKind; at: string };
  /** Keep this callback's raw body (truncated to MAX_RAW_CALLBACK_BYTES) in its type's slot. */
  rawCallback?: { kind: CallbackKind; body: string };
}

/** How an event ended when its plan's condition failed. */
export type RejectedOutcome = 'duplicate' | 'late' | 'no_change' | 'stale' | 'unknown_task' | 'task_mismatch';

/** `onRejected`'s verdict: the outcome, and possibly a second plan that records the arrival. */
export interface Rejection {
  outcome: RejectedOutcome;
  followUp?: TransitionPlan;
  /** Why, in words, for logs. */
  detail: string;
}

function isoAt(nowMs: number): string {
  return new Date(nowMs).toISOString();
}

/** Cuts a string to at most `maxBytes` of UTF-8 without splitting a character. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) {
    return text;
  }
  let cut = Buffer.from(text, 'utf8').subarray(0, maxBytes).toString('utf8');
  // A split multi-byte character decodes to U+FFFD at the end: drop it.
  while (cut.endsWith('\uFFFD')) {
    cut = cut.slice(0, -1);
  }
  return cut;
}

/** The statuses a "result" (finished or failed) may arrive from, plus recovery of our own verdicts. */
const RESULT_CONDITION = {
  allowedFrom: OPEN_STATUSES,
  alsoFromFailedReasons: RECOVERABLE_FAILURES,
} as const;

/**
 * The fields every move to `status` writes: the timeline entry, the check schedule, the
 * deadline, the expiry of a terminal task.
 */
function moveTo(
  status: TaskStatus,
  source: ChangeSource,
  ctx: TransitionContext,
  detail?: string,
): Pick<TransitionPlan, 'set' | 'timelineEntry'> {
  const { nowMs, settings } = ctx;
  const set: PlanFields = { status, updatedAt: isoAt(nowMs) };
  switch (status) {
    case 'starting':
    case 'prepared':
      set.nextCheckAtMs = nowMs + settings.startCheckDelaySeconds * MS_PER_SECOND;
      break;
    case 'recording':
      // No check is pending while a class runs; the sweep looks again after the longest class.
      set.nextCheckAtMs = nowMs + settings.maxRecordingSeconds * MS_PER_SECOND;
      set.deadlineAtMs = nowMs + (settings.maxRecordingSeconds + settings.finishDeadlineSeconds) * MS_PER_SECOND;
      break;
    case 'stopping':
      set.nextCheckAtMs = nowMs + settings.stopCheckDelaySeconds * MS_PER_SECOND;
      set.deadlineAtMs = nowMs + settings.finishDeadlineSeconds * MS_PER_SECOND;
      break;
    case 'finished':
    case 'failed':
      set.nextCheckAtMs = null;
      set.expiresAtSeconds = Math.floor(nowMs / MS_PER_SECOND) + settings.retentionSeconds;
      break;
  }
  const timelineEntry: TimelineEntry = { status, at: isoAt(nowMs), source };
  if (detail !== undefined) {
    timelineEntry.detail = detail;
  }
  return { set, timelineEntry };
}

/** The tracks to keep, and a note for the timeline when some had to be dropped. */
function boundedTracks(tracks: Track[]): { tracks: Track[]; note?: string } {
  let kept = 0;
  let sizeBytes = 0;
  for (const track of tracks) {
    if (kept === MAX_TRACKS_PER_TASK) break;
    sizeBytes += Buffer.byteLength(JSON.stringify(track.raw), 'utf8');
    if (sizeBytes > MAX_TRACKS_BYTES) break;
    kept += 1;
  }
  if (kept === tracks.length) {
    return { tracks };
  }
  return {
    tracks: tracks.slice(0, kept),
    note: `${kept} of ${tracks.length} tracks kept (item size limit)`,
  };
}

function joinDetail(...parts: (string | undefined)[]): string | undefined {
  const kept = parts.filter((part): part is string => part !== undefined && part !== '');
  return kept.length > 0 ? kept.join('; ') : undefined;
}

function upstreamRecord(error: UpstreamFailure, nowMs: number): UpstreamErrorRecord {
  const record: UpstreamErrorRecord = {
    operation: error.operation,
    message: truncateUtf8(error.message, MAX_VENDOR_MESSAGE_BYTES),
    random: error.random,
    at: isoAt(nowMs),
  };
  if (error.code !== undefined) {
    record.code = error.code;
  }
  return record;
}

function describeUpstream(error: UpstreamFailure): string {
  const what = error.code === undefined ? 'no answer' : `error_code ${error.code}`;
  return `${error.operation}: ${what}: ${truncateUtf8(error.message, MAX_VENDOR_MESSAGE_BYTES)} (random ${error.random})`;
}

function vendorFailure(callbackType: string, errorCode: number, errorMsg: string): Failure {
  return { reason: 'upstream_error', code: errorCode, detail: `${callbackType} reported error_code ${errorCode}: ${truncateUtf8(errorMsg, MAX_VENDOR_MESSAGE_BYTES)}` };
}

/**
 * The plan of an event, from the event alone.
 *
 * Decisions worth knowing:
 * - A `record_finished` (or a `finished` query answer) may finish a task that failed only by
 *   our own verdict (`start_unconfirmed`, `deadline_exceeded`): the vendor did record, and
 *   recovering a recording beats a clean state machine. Any other terminal task absorbs
 *   every event.
 * - `record_finished` with a non-zero `error_code` fails the task (`upstream_error`), keeping
 *   whatever tracks it lists.
 * - A `record_started` with a non-zero `error_code` fails an open task.
 * - Callbacks and query answers carry the vendor task id: it is written when the task has
 *   none (an unanswered `start`) and must agree when it has one.
 */
export function planFor(event: RecordingEvent, ctx: TransitionContext): TransitionPlan {
  const { nowMs } = ctx;
  const at = isoAt(nowMs);
  switch (event.type) {
    case 'start_accepted':
      return {
        event: event.type,
        condition: { allowedFrom: ['starting'], expectTaskId: event.taskId },
        ...withFields(moveTo('prepared', 'api', ctx), { taskId: event.taskId }),
      };
    case 'start_refused': {
      const moved = moveTo('failed', 'api', ctx, describeUpstream(event.error));
      return {
        event: event.type,
        condition: { allowedFrom: ['starting'] },
        ...withFields(moved, {
          failure: {
            reason: 'start_refused',
            detail: `start refused: ${describeUpstream(event.error)}`,
            ...(event.error.code === undefined ? {} : { code: event.error.code }),
          },
          lastUpstreamError: upstreamRecord(event.error, nowMs),
        }),
      };
    }
    case 'start_unanswered':
      return {
        event: event.type,
        condition: { allowedFrom: ['starting'] },
        set: { lastUpstreamError: upstreamRecord(event.error, nowMs), updatedAt: at },
      };
    case 'callback_started': {
      const common = {
        event: event.type,
        callbackArrival: { kind: 'recordStarted' as const, at },
        rawCallback: { kind: 'recordStarted' as const, body: event.raw },
      };
      if (event.errorCode !== 0) {
        const failure = vendorFailure('record_started', event.errorCode, event.errorMsg);
        return {
          ...common,
          condition: { allowedFrom: OPEN_STATUSES, expectTaskId: event.taskId },
          ...withFields(moveTo('failed', 'callback', ctx, failure.detail), { taskId: event.taskId, failure }),
        };
      }
      return {
        ...common,
        condition: { allowedFrom: ['starting', 'prepared'], expectTaskId: event.taskId },
        ...withFields(moveTo('recording', 'callback', ctx), { taskId: event.taskId }),
      };
    }
    case 'callback_finished': {
      const { tracks, note } = boundedTracks(event.tracks);
      const ok = event.errorCode === 0;
      const failure = ok ? null : vendorFailure('record_finished', event.errorCode, event.errorMsg);
      const moved = moveTo(ok ? 'finished' : 'failed', 'callback', ctx, joinDetail(failure?.detail, note));
      return {
        event: event.type,
        condition: { ...RESULT_CONDITION, expectTaskId: event.taskId },
        ...withFields(moved, {
          taskId: event.taskId,
          tracks,
          startTimeSeconds: event.startTimeSeconds,
          stopTimeSeconds: event.stopTimeSeconds,
          failure,
        }),
        callbackArrival: { kind: 'recordFinished', at },
        rawCallback: { kind: 'recordFinished', body: event.raw },
      };
    }
    case 'query_answer': {
      const { answer } = event;
      const increments = { polls: 1 };
      if (answer.status === 'prepared') {
        return {
          event: event.type,
          condition: { allowedFrom: ['starting'], expectTaskId: answer.taskId },
          ...withFields(moveTo('prepared', 'query', ctx), { taskId: answer.taskId }),
          increments,
        };
      }
      if (answer.status === 'recording') {
        return {
          event: event.type,
          condition: { allowedFrom: ['starting', 'prepared'], expectTaskId: answer.taskId },
          ...withFields(moveTo('recording', 'query', ctx), { taskId: answer.taskId }),
          increments,
        };
      }
      const { tracks, note } = boundedTracks(answer.tracks);
      return {
        event: event.type,
        condition: { ...RESULT_CONDITION, expectTaskId: answer.taskId },
        ...withFields(moveTo('finished', 'query', ctx, note), {
          taskId: answer.taskId,
          tracks,
          startTimeSeconds: answer.startTimeSeconds,
          stopTimeSeconds: answer.stopTimeSeconds,
          failure: null,
        }),
        increments,
      };
    }
    case 'stop_requested':
    case 'stop_already_ended': {
      const alreadyEnded = event.type === 'stop_already_ended';
      const moved = moveTo('stopping', 'api', ctx, alreadyEnded ? 'the vendor had already ended the task (20011)' : undefined);
      // 20011: the result is ready or nearly so; check at once instead of after the usual delay.
      const delaySeconds = alreadyEnded ? 0 : ctx.settings.stopCheckDelaySeconds;
      return {
        event: event.type,
        condition: { allowedFrom: ['prepared', 'recording'] },
        ...withFields(moved, {
          nextCheckAtMs: nowMs + delaySeconds * MS_PER_SECOND,
          checkPhase: 'stop',
          checkDelaySeconds: delaySeconds,
        }),
        // A new chain of checks begins; the start chain's messages, if any, become stale.
        increments: { checkAttempt: 1 },
      };
    }
    case 'upstream_failed':
      return {
        event: event.type,
        condition: {},
        set: { lastUpstreamError: upstreamRecord(event.error, nowMs), updatedAt: at },
        ...(event.error.operation === 'query' ? { increments: { polls: 1 } } : {}),
      };
    case 'deadline_exceeded':
      return {
        event: event.type,
        condition: { allowedFrom: OPEN_STATUSES },
        ...withFields(moveTo('failed', 'reconciler', ctx, event.detail), {
          failure: { reason: event.reason, detail: event.detail },
        }),
      };
    case 'check_scheduled':
      return {
        event: event.type,
        condition: { allowedFrom: [event.basedOnStatus], expectCheckAttempt: event.expectedAttempt },
        set: {
          checkAttempt: event.expectedAttempt + 1,
          checkPhase: event.phase,
          checkDelaySeconds: event.delaySeconds,
          nextCheckAtMs: event.nextAtMs,
          updatedAt: at,
        },
      };
  }
}

function withFields(
  moved: Pick<TransitionPlan, 'set' | 'timelineEntry'>,
  fields: Omit<Partial<PlanFields>, 'updatedAt'>,
): Pick<TransitionPlan, 'set' | 'timelineEntry'> {
  return { ...moved, set: { ...moved.set, ...fields } };
}

/** Whether the task as it is satisfies the plan's condition (what a store checks atomically). */
export function planAllows(task: Task, plan: TransitionPlan): boolean {
  const { allowedFrom, alsoFromFailedReasons, expectTaskId, expectCheckAttempt } = plan.condition;
  if (allowedFrom !== undefined) {
    const recovering =
      task.status === 'failed' &&
      task.failure !== undefined &&
      (alsoFromFailedReasons ?? []).includes(task.failure.reason);
    if (!allowedFrom.includes(task.status) && !recovering) {
      return false;
    }
  }
  if (expectTaskId !== undefined && task.taskId !== undefined && task.taskId !== expectTaskId) {
    return false;
  }
  if (expectCheckAttempt !== undefined && task.check.attempt !== expectCheckAttempt) {
    return false;
  }
  return true;
}

/**
 * The task after `plan`, assuming its condition holds (check with `planAllows`). This is the
 * definition of what a plan does; the DynamoDB store's UpdateExpression must match it.
 */
export function applyPlan(task: Task, plan: TransitionPlan): Task {
  const { set } = plan;
  const next: Task = {
    ...task,
    version: task.version + 1,
    updatedAt: set.updatedAt,
    timeline: plan.timelineEntry === undefined ? task.timeline : [...task.timeline, plan.timelineEntry],
    callbacks: { ...task.callbacks },
    check: { ...task.check },
    rawCallbacks: { ...task.rawCallbacks },
  };
  if (set.status !== undefined) next.status = set.status;
  if (set.taskId !== undefined) next.taskId = set.taskId;
  if (set.tracks !== undefined) next.tracks = set.tracks;
  if (set.startTimeSeconds !== undefined) next.startTimeSeconds = set.startTimeSeconds;
  if (set.stopTimeSeconds !== undefined) next.stopTimeSeconds = set.stopTimeSeconds;
  if (set.failure === null) delete next.failure;
  else if (set.failure !== undefined) next.failure = set.failure;
  if (set.lastUpstreamError !== undefined) next.lastUpstreamError = set.lastUpstreamError;
  if (set.deadlineAtMs !== undefined) next.deadlineAtMs = set.deadlineAtMs;
  if (set.nextCheckAtMs === null) delete next.check.nextAtMs;
  else if (set.nextCheckAtMs !== undefined) next.check.nextAtMs = set.nextCheckAtMs;
  if (set.checkAttempt !== undefined) next.check.attempt = set.checkAttempt;
  if (set.checkPhase !== undefined) next.check.phase = set.checkPhase;
  if (set.checkDelaySeconds !== undefined) next.check.delaySeconds = set.checkDelaySeconds;
  if (set.expiresAtSeconds !== undefined) next.expiresAtSeconds = set.expiresAtSeconds;
  if (plan.increments?.polls !== undefined) next.polls += plan.increments.polls;
  if (plan.increments?.checkAttempt !== undefined) next.check.attempt += plan.increments.checkAttempt;
  if (plan.callbackArrival !== undefined) {
    const { kind, at } = plan.callbackArrival;
    const before = task.callbacks[kind];
    next.callbacks[kind] = { count: (before?.count ?? 0) + 1, firstAt: before?.firstAt ?? at, lastAt: at };
  }
  if (plan.rawCallback !== undefined) {
    next.rawCallbacks[plan.rawCallback.kind] = truncateUtf8(plan.rawCallback.body, MAX_RAW_CALLBACK_BYTES);
  }
  return next;
}

/** A plan that only records that something arrived: no condition on the status, no status change. */
function recordOnly(event: RecordingEventType, ctx: TransitionContext, extra: Partial<TransitionPlan>): TransitionPlan {
  return { event, condition: {}, set: { updatedAt: isoAt(ctx.nowMs) }, ...extra };
}

function eventTaskId(event: RecordingEvent): string | undefined {
  switch (event.type) {
    case 'start_accepted':
    case 'callback_started':
    case 'callback_finished':
      return event.taskId;
    case 'query_answer':
      return event.answer.taskId;
    default:
      return undefined;
  }
}

/**
 * What a rejected plan means, given the task as it was when the condition failed
 * (`undefined`: no such task).
 *
 * - A callback that changes nothing is counted (a second write with no status condition,
 *   so it cannot undo anything): `duplicate` when that callback type came before, else `late`
 *   (e.g. `record_started` after `stopping`, or after a query already moved the task on).
 * - A query answer that changes nothing counts the poll (`no_change`).
 * - An API or reconciler event that the task has moved past is a `no_change`.
 * - A check claim that lost is `stale`: another chain, or a change of status, got there first.
 */
export function onRejected(current: Task | undefined, event: RecordingEvent, ctx: TransitionContext): Rejection {
  if (current === undefined) {
    return { outcome: 'unknown_task', detail: 'no task with this record user id' };
  }
  const taskId = eventTaskId(event);
  if (taskId !== undefined && current.taskId !== undefined && current.taskId !== taskId) {
    return { outcome: 'task_mismatch', detail: `event names task ${taskId}, the task is ${current.taskId}` };
  }
  switch (event.type) {
    case 'callback_started':
    case 'callback_finished': {
      const kind: CallbackKind = event.type === 'callback_started' ? 'recordStarted' : 'recordFinished';
      const seenBefore = (current.callbacks[kind]?.count ?? 0) > 0;
      return {
        outcome: seenBefore ? 'duplicate' : 'late',
        detail: `task is ${current.status}`,
        followUp: recordOnly(event.type, ctx, { callbackArrival: { kind, at: isoAt(ctx.nowMs) } }),
      };
    }
    case 'query_answer':
      return {
        outcome: 'no_change',
        detail: `vendor says ${event.answer.status}, task is ${current.status}`,
        followUp: recordOnly(event.type, ctx, { increments: { polls: 1 } }),
      };
    case 'check_scheduled':
      return {
        outcome: 'stale',
        detail: `expected attempt ${event.expectedAttempt} in ${event.basedOnStatus}, task has ${current.check.attempt} in ${current.status}`,
      };
    default:
      return { outcome: 'no_change', detail: `task is ${current.status}` };
  }
}

/** What the reconciler's check of `phase` waits for has happened. */
export function isPhaseSatisfied(phase: CheckPhase, status: TaskStatus): boolean {
  return phase === 'start' ? status !== 'starting' && status !== 'prepared' : isTerminal(status);
}

/** The check phase that fits a task's status (used by the sweep to resume a lost chain). */
export function phaseForStatus(status: TaskStatus): CheckPhase {
  return status === 'starting' || status === 'prepared' ? 'start' : 'stop';
}

/** What a new task is made from. */
export interface NewTaskInput {
  recordUserId: string;
  roomId: number;
  groupId?: string;
  whiteboard?: WhiteboardSize;
  idemKeyHash?: string;
}

/**
 * A new task, `starting`, written before `start` is sent so that nothing that starts is
 * unrecorded. Its first check (attempt 1, phase start) is due after the start-check delay,
 * and the vendor must confirm the start before the start deadline.
 */
export function newStartingTask(input: NewTaskInput, ctx: TransitionContext): Task {
  const { nowMs, settings } = ctx;
  const at = isoAt(nowMs);
  const task: Task = {
    recordUserId: input.recordUserId,
    roomId: input.roomId,
    status: 'starting',
    version: 1,
    createdAt: at,
    updatedAt: at,
    timeline: [{ status: 'starting', at, source: 'api' }],
    tracks: [],
    callbacks: {},
    polls: 0,
    check: {
      attempt: 1,
      phase: 'start',
      delaySeconds: settings.startCheckDelaySeconds,
      nextAtMs: nowMs + settings.startCheckDelaySeconds * MS_PER_SECOND,
    },
    deadlineAtMs: nowMs + settings.startDeadlineSeconds * MS_PER_SECOND,
    rawCallbacks: {},
  };
  if (input.groupId !== undefined) task.groupId = input.groupId;
  if (input.whiteboard !== undefined) task.whiteboard = input.whiteboard;
  if (input.idemKeyHash !== undefined) task.idemKeyHash = input.idemKeyHash;
  return task;
}
