/**
 * The recording use cases: start, stop, read and list recordings; apply a vendor callback;
 * run a reconciler check; sweep for lost checks.
 *
 * The service knows nothing of Lambda, HTTP, DynamoDB or SQS: it speaks through the ports
 * (ports.ts) and the TicApi, and changes tasks only through `applyEvent` (the state machine).
 *
 * Budget of one recording whose callbacks arrive on time: `start`, `stop`, no `query`;
 * 5 conditional writes (create, start accepted, record_started, stop, record_finished) and
 * 2 check messages (start phase, stop phase), each of which finds its phase done and ends.
 */
import { TicError, TicErrorCode } from '../tic/errors';
import type { TicApi } from '../tic/api';
import { normalizeVideos } from '../tic/tracks';
import { makeRecordUserId as defaultMakeRecordUserId } from '../tic/user-id';
import type { RecordCallback } from '../tic/wire';
import { applyEvent, type EventResult } from './apply-event';
import type { CheckMessage } from './check-message';
import { TaskNotFound, TaskNotStartedYet, UpstreamRefused } from './errors';
import {
  MAX_TASK_ID_LENGTH,
  idempotencyKeyHash,
  parseIdempotencyKey,
  parsePageLimit,
  parseRoomId,
  parseStartBody,
  startRequestHash,
} from './requests';
import { silentLogger, systemClock, type CheckQueue, type Clock, type IdempotencyRecord, type Logger, type Metrics, type TaskPage, type TaskStore } from './ports';
import { MAX_SQS_DELAY_SECONDS, resolveSettings, type RecordingSettings } from './settings';
import { isRecordUserId, isTerminal, type CheckPhase, type Task } from './task';
import {
  isPhaseSatisfied,
  newStartingTask,
  phaseForStatus,
  type RecordingEvent,
  type TransitionContext,
  type UpstreamFailure,
} from './transitions';

const MS_PER_SECOND = 1000;

/** Open tasks the sweep looks at per run; the next run takes the rest. */
export const SWEEP_BATCH_LIMIT = 100;

/** Rounds of "claim the next check, find the task changed, decide again" before giving up on a check. */
const MAX_CHECK_DECISION_ROUNDS = 3;

export interface RecordingServiceDeps {
  store: TaskStore;
  queue: CheckQueue;
  tic: TicApi;
  /**
   * Makes the recorder's UserSig; the wiring closes over the secret key so that the domain
   * never sees it. Given the lifetime from the settings.
   */
  makeUserSig: (userId: string, lifetimeSeconds: number) => string;
  /** Default: lib/tic/user-id.ts `makeRecordUserId` (a new random id per call). */
  makeRecordUserId?: (roomId: number) => string;
  clock?: Clock;
  metrics?: Metrics;
  logger?: Logger;
  settings?: Partial<RecordingSettings>;
}

export interface StartRecordingRequest {
  /** The parsed JSON body of `POST /recordings`; validated here. */
  body: unknown;
  /** The `Idempotency-Key` header, if any. */
  idempotencyKey?: string;
  /** Who is calling (e.g. the API key's id): idempotency keys are per caller. */
  callerId: string;
}

export interface StartRecordingResult {
  task: Task;
  /** True when the idempotency key matched an earlier identical request: nothing new was started. */
  replayed: boolean;
}

export interface ListRoomRecordingsRequest {
  /** Path parameter or number. */
  roomId: unknown;
  /** Query parameter or number; default 20, at most 100. */
  limit?: unknown;
  cursor?: string;
}

export type CallbackOutcome = 'applied' | 'duplicate' | 'late' | 'unknown_task' | 'task_mismatch';

export interface CallbackResult {
  /**
   * Every outcome is answered `{"error_code":0}`: a duplicate or late callback changed what it
   * should (the arrival count), and an unknown task or a mismatch is not ours (our task is
   * stored before `start` is sent), so the vendor's retries could not help.
   */
  outcome: CallbackOutcome;
  task?: Task;
}

export type CheckOutcome =
  /** No such task (deleted, or a message from elsewhere). */
  | 'missing'
  /** The message's attempt is not the task's: another chain owns the task. */
  | 'stale'
  /** What the phase waits for has happened (or the task is over): the chain ends. */
  | 'satisfied'
  /** The next check was claimed and sent. */
  | 'rescheduled'
  /** The deadline passed: the task failed. */
  | 'failed_deadline';

export interface CheckResult {
  outcome: CheckOutcome;
  /** Whether `query` was called. */
  queried: boolean;
  task?: Task;
}

export interface SweepResult {
  /** Overdue open tasks looked at. */
  examined: number;
  /** Of those, how many got a new check. */
  resumed: number;
}

export interface RecordingService {
  /**
   * Starts recording a room. Writes the task (`starting`) BEFORE calling the vendor's
   * `start`, so nothing that starts is unrecorded, then:
   * - accepted → `prepared`;
   * - refused (an `error_code`) → the task is `failed` (`start_refused`) and UpstreamRefused
   *   is thrown (→ 502);
   * - unanswered (timeout, network failure, unreadable answer) → the task stays `starting` and
   *   is returned (→ 202). `start` is not repeated: a second start would make a second recorder
   *   (CONTRACT.md "Flow"). The vendor may well have started it; the record user id is ours,
   *   so a later callback naming it completes the task. If nothing names it before the start
   *   deadline, the reconciler (which cannot query without a task id) fails the task with
   *   `start_unconfirmed`; a `record_finished` arriving later still recovers it.
   * Then sends the start-phase check. With an idempotency key, the same key and body return
   * the first task (`replayed`), and another body throws IdempotencyConflict.
   *
   * @throws ValidationError, IdempotencyConflict, UpstreamRefused; store errors as they are.
   */
  startRecording(request: StartRecordingRequest): Promise<StartRecordingResult>;
  /**
   * Stops a recording (`id`: vendor task id or record user id). A task already stopping or
   * over is returned as it is, without calling the vendor. 20011 from the vendor means the
   * task had already ended: it becomes `stopping` and is checked at once to fetch the result.
   *
   * @throws TaskNotFound; TaskNotStartedYet (no vendor task id yet: start unconfirmed);
   *   UpstreamRefused (any other vendor error, after the client's own retries).
   */
  stopRecording(id: string): Promise<Task>;
  /** @throws TaskNotFound */
  getRecording(id: string): Promise<Task>;
  /** A room's recordings, newest first. @throws ValidationError (`room_id`, `limit`, `cursor`) */
  listRoomRecordings(request: ListRoomRecordingsRequest): Promise<TaskPage>;
  /** Applies a validated vendor callback (lib/tic/callback-body.ts). Throws only on storage failure. */
  applyCallback(callback: RecordCallback, rawBody: string): Promise<CallbackResult>;
  /**
   * Runs one reconciler check. Throws only on infrastructure failure (the queue redelivers the
   * message); every domain outcome, including a stale or unknown task, is a normal return.
   */
  runCheck(message: CheckMessage): Promise<CheckResult>;
  /** Resumes the check chains of open tasks whose next check is overdue by the grace period. */
  sweep(): Promise<SweepResult>;
  /** The resolved settings (for the wiring and tests). */
  readonly settings: RecordingSettings;
}

function upstreamFailure(error: TicError): UpstreamFailure {
  const failure: UpstreamFailure = { operation: error.operation, message: error.upstreamMessage, random: error.random };
  if (error.code !== undefined) {
    failure.code = error.code;
  }
  return failure;
}

function refusedFrom(error: TicError): UpstreamRefused {
  return new UpstreamRefused({
    operation: error.operation,
    code: error.code,
    upstreamMessage: error.upstreamMessage,
    random: error.random,
  });
}

/** Builds the recording service. Settings are checked here (a bad one throws, naming itself). */
export function createRecordingService(deps: RecordingServiceDeps): RecordingService {
  const { store, queue, tic } = deps;
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? silentLogger;
  const metrics = deps.metrics;
  const makeRecordUserId = deps.makeRecordUserId ?? defaultMakeRecordUserId;
  const settings = resolveSettings(deps.settings);

  const context = (): TransitionContext => ({ nowMs: clock.nowMs(), settings });
  const apply = (recordUserId: string, event: RecordingEvent): Promise<EventResult> =>
    applyEvent(store, recordUserId, event, context());

  /** Sends a check; a failure is logged, not thrown: the task is stored and the sweep resumes its chain. */
  async function sendCheckBestEffort(task: Task, phase: CheckPhase, delaySeconds: number): Promise<void> {
    try {
      await queue.send({ v: 1, record_user_id: task.recordUserId, attempt: task.check.attempt, phase }, delaySeconds);
    } catch (error) {
      logger.error('check message not sent; the sweep will resume the task', {
        record_user_id: task.recordUserId,
        phase,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  async function findTask(id: string): Promise<Task | undefined> {
    if (id.length === 0 || id.length > MAX_TASK_ID_LENGTH) {
      return undefined;
    }
    return isRecordUserId(id) ? store.get(id) : store.findByTaskId(id);
  }

  async function startRecording(request: StartRecordingRequest): Promise<StartRecordingResult> {
    const command = parseStartBody(request.body);
    const key = request.idempotencyKey === undefined ? undefined : parseIdempotencyKey(request.idempotencyKey);
    const recordUserId = makeRecordUserId(command.roomId);
    const ctx = context();

    let idempotency: IdempotencyRecord | undefined;
    if (key !== undefined) {
      idempotency = {
        keyHash: idempotencyKeyHash(request.callerId, key),
        requestHash: startRequestHash(command),
        expiresAtSeconds: Math.floor(ctx.nowMs / MS_PER_SECOND) + settings.idempotencyRetentionSeconds,
      };
    }
    const draft = newStartingTask(
      {
        recordUserId,
        roomId: command.roomId,
        ...(command.groupId === undefined ? {} : { groupId: command.groupId }),
        ...(command.whiteboard === undefined ? {} : { whiteboard: command.whiteboard }),
        ...(idempotency === undefined ? {} : { idemKeyHash: idempotency.keyHash }),
      },
      ctx,
    );
    const created = await store.create(draft, idempotency);
    if (!created.created) {
      logger.info('idempotent replay of start', { record_user_id: created.task.recordUserId });
      const refused = created.task.failure?.reason === 'start_refused' ? created.task.lastUpstreamError : undefined;
      if (refused !== undefined && refused.operation === 'start') {
        // The same request gets the same answer: the vendor refused the first one (→ 502 again).
        throw new UpstreamRefused({ operation: 'start', code: refused.code, upstreamMessage: refused.message, random: refused.random });
      }
      return { task: created.task, replayed: true };
    }

    // The UserSig is made per start and passed on; it is a credential, so never stored or logged.
    const userSig = command.userSig ?? deps.makeUserSig(recordUserId, settings.userSigLifetimeSeconds);
    let event: RecordingEvent;
    let refusal: TicError | undefined;
    try {
      const { taskId } = await tic.start({
        roomId: command.roomId,
        userId: recordUserId,
        userSig,
        ...(command.groupId === undefined ? {} : { groupId: command.groupId }),
        ...(command.whiteboard === undefined ? {} : { whiteboard: command.whiteboard }),
      });
      event = { type: 'start_accepted', taskId };
    } catch (error) {
      if (!(error instanceof TicError)) {
        throw error;
      }
      if (error.kind === 'upstream') {
        refusal = error;
        event = { type: 'start_refused', error: upstreamFailure(error) };
      } else {
        logger.warn('start unanswered; task kept as starting', { record_user_id: recordUserId, kind: error.kind, random: error.random });
        event = { type: 'start_unanswered', error: upstreamFailure(error) };
      }
    }
    const result = await apply(recordUserId, event);
    if (result.outcome === 'unknown_task') {
      throw new Error(`task ${recordUserId} vanished right after it was stored`);
    }
    if (refusal !== undefined) {
      throw refusedFrom(refusal);
    }
    const task = result.task;
    if (!isTerminal(task.status) && !isPhaseSatisfied('start', task.status)) {
      await sendCheckBestEffort(task, 'start', settings.startCheckDelaySeconds);
    }
    return { task, replayed: false };
  }

  async function stopRecording(id: string): Promise<Task> {
    const task = await findTask(id);
    if (task === undefined) {
      throw new TaskNotFound(id);
    }
    if (task.status === 'failed' && task.failure?.reason === 'deadline_exceeded' && task.taskId !== undefined) {
      // We gave up on hearing from the vendor, not the vendor on recording: its recorder may
      // still be in the room. Tell it to stop; the status stays ours (a late record_finished
      // still recovers the recording).
      await stopSilentRecorder(task, task.taskId);
      return task;
    }
    if (isTerminal(task.status) || task.status === 'stopping') {
      return task;
    }
    if (task.taskId === undefined) {
      throw new TaskNotStartedYet(task.recordUserId);
    }
    let event: RecordingEvent;
    try {
      await tic.stop(task.taskId);
      event = { type: 'stop_requested' };
    } catch (error) {
      if (!(error instanceof TicError)) {
        throw error;
      }
      if (error.kind === 'upstream' && error.code === TicErrorCode.TASK_ALREADY_ENDED) {
        event = { type: 'stop_already_ended' };
      } else {
        await apply(task.recordUserId, { type: 'upstream_failed', error: upstreamFailure(error) });
        throw refusedFrom(error);
      }
    }
    const result = await apply(task.recordUserId, event);
    if (result.outcome === 'unknown_task') {
      throw new TaskNotFound(id);
    }
    if (result.outcome === 'applied') {
      await sendCheckBestEffort(result.task, 'stop', result.task.check.delaySeconds);
    }
    return result.task;
  }

  async function stopSilentRecorder(task: Task, taskId: string): Promise<void> {
    try {
      const { random } = await tic.stop(taskId);
      logger.warn('stop sent for a task failed by deadline', { record_user_id: task.recordUserId, task_id: taskId, random });
    } catch (error) {
      if (!(error instanceof TicError)) throw error;
      // 20011: it had ended. Anything else: nothing more we can do than record it.
      if (error.code !== TicErrorCode.TASK_ALREADY_ENDED) {
        await apply(task.recordUserId, { type: 'upstream_failed', error: upstreamFailure(error) });
      }
    }
  }

  async function getRecording(id: string): Promise<Task> {
    const task = await findTask(id);
    if (task === undefined) {
      throw new TaskNotFound(id);
    }
    return task;
  }

  async function listRoomRecordings(request: ListRoomRecordingsRequest): Promise<TaskPage> {
    const roomId = parseRoomId(request.roomId);
    const limit = parsePageLimit(request.limit);
    return store.listByRoom(roomId, { limit, ...(request.cursor === undefined ? {} : { cursor: request.cursor }) });
  }

  async function applyCallback(callback: RecordCallback, rawBody: string): Promise<CallbackResult> {
    const event: RecordingEvent =
      callback.callback_type === 'record_started'
        ? {
            type: 'callback_started',
            taskId: callback.task_id,
            errorCode: callback.error_code,
            errorMsg: callback.error_msg,
            raw: rawBody,
          }
        : {
            type: 'callback_finished',
            taskId: callback.task_id,
            errorCode: callback.error_code,
            errorMsg: callback.error_msg,
            startTimeSeconds: callback.start_time,
            stopTimeSeconds: callback.stop_time,
            tracks: normalizeVideos(callback.video_info),
            raw: rawBody,
          };
    const result = await apply(callback.record_user_id, event);
    const log = {
      record_user_id: callback.record_user_id,
      task_id: callback.task_id,
      room_id: callback.room_id,
      callback_type: callback.callback_type,
      error_code: callback.error_code,
      outcome: result.outcome,
      detail: 'detail' in result ? result.detail : undefined,
    };
    if (result.outcome === 'unknown_task' || result.outcome === 'task_mismatch') {
      logger.warn('callback for a task that is not ours; answered 0, nothing changed', log);
    } else {
      logger.info('callback applied', { ...log, status: result.task.status });
    }
    switch (result.outcome) {
      case 'applied':
      case 'duplicate':
      case 'late':
      case 'task_mismatch':
        return { outcome: result.outcome, task: result.task };
      case 'unknown_task':
        return { outcome: 'unknown_task' };
      default:
        // A callback plan is never judged no_change or stale; treat it as a duplicate to be safe.
        return { outcome: 'duplicate', task: result.task };
    }
  }

  /** The delay of the next check of `phase`: backing off from the last, at most 900 s, never past the deadline. */
  function nextCheckDelaySeconds(task: Task, phase: CheckPhase, nowMs: number): number {
    const baseSeconds = phase === 'start' ? settings.startCheckDelaySeconds : settings.stopCheckDelaySeconds;
    const backedOff = Math.max(baseSeconds, task.check.delaySeconds * settings.checkBackoffFactor);
    const untilDeadlineSeconds = Math.max(0, Math.ceil((task.deadlineAtMs - nowMs) / MS_PER_SECOND));
    return Math.min(MAX_SQS_DELAY_SECONDS, backedOff, untilDeadlineSeconds);
  }

  async function runCheck(message: CheckMessage): Promise<CheckResult> {
    const { phase, attempt } = message;
    let task = await store.get(message.record_user_id);
    if (task === undefined) {
      logger.warn('check for an unknown task dropped', { record_user_id: message.record_user_id });
      return { outcome: 'missing', queried: false };
    }
    if (attempt !== task.check.attempt) {
      return { outcome: 'stale', queried: false, task };
    }
    if (isTerminal(task.status) || isPhaseSatisfied(phase, task.status)) {
      return { outcome: 'satisfied', queried: false, task };
    }

    let queried = false;
    if (task.taskId !== undefined) {
      queried = true;
      let result: EventResult;
      try {
        const { answer, random } = await tic.query(task.taskId);
        if (answer.record_user_id !== '' && answer.record_user_id !== task.recordUserId) {
          // The answer is about another recorder: its status and videos are not this task's.
          // Recorded as a failed query, so the chain goes on and a callback can still finish it.
          logger.error('query answer names another record user id; ignored', {
            record_user_id: task.recordUserId,
            task_id: task.taskId,
            answer_record_user_id: answer.record_user_id,
            random,
          });
          result = await apply(task.recordUserId, {
            type: 'upstream_failed',
            error: { operation: 'query', message: `answer names record user id ${answer.record_user_id}`, random },
          });
        } else {
          result = await apply(task.recordUserId, {
            type: 'query_answer',
            answer: {
              taskId: answer.task_id,
              status: answer.status,
              startTimeSeconds: answer.start_time,
              stopTimeSeconds: answer.stop_time,
              tracks: normalizeVideos(answer.video_info),
            },
          });
        }
      } catch (error) {
        if (!(error instanceof TicError)) {
          throw error;
        }
        // Including 20005 (the vendor cannot read the task): keep checking until the deadline.
        logger.warn('query failed; will check again', {
          record_user_id: task.recordUserId,
          task_id: task.taskId,
          code: error.code,
          kind: error.kind,
          random: error.random,
        });
        result = await apply(task.recordUserId, { type: 'upstream_failed', error: upstreamFailure(error) });
      }
      if (result.outcome === 'unknown_task') {
        return { outcome: 'missing', queried };
      }
      if (result.outcome === 'task_mismatch') {
        logger.error('query answer names another task', { record_user_id: task.recordUserId, detail: result.detail });
      }
      task = result.task;
      if (isTerminal(task.status) || isPhaseSatisfied(phase, task.status)) {
        return { outcome: 'satisfied', queried, task };
      }
      if (phase === 'stop' && task.status === 'recording') {
        const stopped = await stopOverlongRecording(task, attempt);
        if (stopped !== undefined) return { outcome: 'rescheduled', queried, task: stopped };
      }
    }

    for (let round = 0; round < MAX_CHECK_DECISION_ROUNDS; round += 1) {
      const nowMs = clock.nowMs();
      if (nowMs >= task.deadlineAtMs) {
        const unconfirmed = task.status === 'starting' && task.taskId === undefined;
        const detail = unconfirmed
          ? 'start went unanswered and no callback named the record user id before the start deadline'
          : `the vendor did not report the ${phase === 'start' ? 'start' : 'result'} before the deadline (status ${task.status})`;
        const failed = await apply(task.recordUserId, {
          type: 'deadline_exceeded',
          reason: unconfirmed ? 'start_unconfirmed' : 'deadline_exceeded',
          detail,
        });
        if (failed.outcome === 'unknown_task') {
          return { outcome: 'missing', queried };
        }
        if (failed.outcome === 'applied') {
          logger.error('task failed by deadline', { record_user_id: task.recordUserId, task_id: task.taskId, reason: failed.task.failure?.reason });
          metrics?.taskFailedByDeadline(failed.task);
          return { outcome: 'failed_deadline', queried, task: failed.task };
        }
        // Something finished it meanwhile.
        task = failed.task;
      } else {
        const delaySeconds = nextCheckDelaySeconds(task, phase, nowMs);
        const claim = await apply(task.recordUserId, {
          type: 'check_scheduled',
          expectedAttempt: attempt,
          basedOnStatus: task.status,
          phase,
          delaySeconds,
          nextAtMs: nowMs + delaySeconds * MS_PER_SECOND,
        });
        if (claim.outcome === 'unknown_task') {
          return { outcome: 'missing', queried };
        }
        if (claim.outcome === 'applied') {
          // Claimed first, then sent: if the send fails, this message's redelivery is stale and
          // the sweep resumes the task; two live chains can never exist.
          await queue.send(
            { v: 1, record_user_id: task.recordUserId, attempt: claim.task.check.attempt, phase },
            delaySeconds,
          );
          return { outcome: 'rescheduled', queried, task: claim.task };
        }
        task = claim.task;
        if (task.check.attempt !== attempt) {
          return { outcome: 'stale', queried, task };
        }
      }
      if (isTerminal(task.status) || isPhaseSatisfied(phase, task.status)) {
        return { outcome: 'satisfied', queried, task };
      }
    }
    throw new Error(`check of ${task.recordUserId} could not settle: the task kept changing`);
  }

  /**
   * A stop-phase check of a task still `recording` means nobody stopped the class and it has
   * outlived `maxRecordingSeconds` (the sweep resumes such a task only then). Its recorder
   * would otherwise stay in the room until the vendor's no-uplink auto-stop, which a camera
   * left on never triggers, so the reconciler stops it. Returns the task, now `stopping`
   * with a new check scheduled, or undefined when the stop failed (the chain goes on and
   * tries again at the next check).
   */
  async function stopOverlongRecording(task: Task, attempt: number): Promise<Task | undefined> {
    if (task.taskId === undefined || task.check.attempt !== attempt) return undefined;
    let event: RecordingEvent;
    try {
      await tic.stop(task.taskId);
      event = { type: 'stop_requested' };
    } catch (error) {
      if (!(error instanceof TicError)) throw error;
      if (error.kind !== 'upstream' || error.code !== TicErrorCode.TASK_ALREADY_ENDED) {
        await apply(task.recordUserId, { type: 'upstream_failed', error: upstreamFailure(error) });
        return undefined;
      }
      event = { type: 'stop_already_ended' };
    }
    const result = await apply(task.recordUserId, event);
    if (result.outcome !== 'applied') return undefined;
    logger.warn('class outlived the longest expected recording; stopped by the reconciler', {
      record_user_id: task.recordUserId,
      task_id: task.taskId,
      max_recording_seconds: settings.maxRecordingSeconds,
    });
    // stop_requested starts a new check chain (it bumps the attempt): this message is now stale.
    await queue.send({ v: 1, record_user_id: task.recordUserId, attempt: result.task.check.attempt, phase: 'stop' }, result.task.check.delaySeconds);
    return result.task;
  }

  async function sweep(): Promise<SweepResult> {
    const nowMs = clock.nowMs();
    const overdueBeforeMs = nowMs - settings.sweepGraceSeconds * MS_PER_SECOND;
    const ids = await store.listOverdue(overdueBeforeMs, SWEEP_BATCH_LIMIT);
    let resumed = 0;
    for (const recordUserId of ids) {
      // The index is eventually consistent: read the task itself before acting.
      const task = await store.get(recordUserId);
      if (task === undefined || isTerminal(task.status)) continue;
      if (task.check.nextAtMs === undefined || task.check.nextAtMs >= overdueBeforeMs) continue;
      const phase = phaseForStatus(task.status);
      // Bumping the attempt kills the old chain if it is merely slow rather than lost.
      const claim = await apply(recordUserId, {
        type: 'check_scheduled',
        expectedAttempt: task.check.attempt,
        basedOnStatus: task.status,
        phase,
        delaySeconds: task.check.delaySeconds,
        nextAtMs: nowMs,
      });
      if (claim.outcome !== 'applied') continue;
      await queue.send({ v: 1, record_user_id: recordUserId, attempt: claim.task.check.attempt, phase }, 0);
      resumed += 1;
      logger.warn('check chain resumed by the sweep', { record_user_id: recordUserId, status: task.status, phase });
    }
    if (resumed > 0) {
      metrics?.checksResumedBySweep?.(resumed);
    }
    return { examined: ids.length, resumed };
  }

  return {
    startRecording,
    stopRecording,
    getRecording,
    listRoomRecordings,
    applyCallback,
    runCheck,
    sweep,
    settings,
  };
}
