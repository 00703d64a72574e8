import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryTaskStore } from '../../lib/adapters/memory-task-store';
import { applyEvent } from '../../lib/recording/apply-event';
import { resolveSettings } from '../../lib/recording/settings';
import { STATUS_RANK, type FailureReason, type Task, type TaskStatus } from '../../lib/recording/task';
import {
  MAX_RAW_CALLBACK_BYTES,
  MAX_TRACKS_BYTES,
  MAX_TRACKS_PER_TASK,
  applyPlan,
  newStartingTask,
  planAllows,
  planFor,
  truncateUtf8,
  type RecordingEvent,
  type TransitionContext,
} from '../../lib/recording/transitions';
import { normalizeVideos } from '../../lib/tic/tracks';
import { SAMPLE_VIDEOS } from './fakes';

const settings = resolveSettings();
const T0 = Date.parse('2025-03-01T08:00:00.000Z');
const ctx = (offsetSeconds = 0): TransitionContext => ({ nowMs: T0 + offsetSeconds * 1000, settings });
const RUI = 'tic_record_user_1234_abc';
const TASK_ID = 'vendortask1';

/** A task in a given situation ("failed:deadline_exceeded" = failed with that reason). */
type Situation = TaskStatus | `failed:${FailureReason}`;

const SITUATIONS: Situation[] = [
  'starting',
  'prepared',
  'recording',
  'stopping',
  'finished',
  'failed:upstream_error',
  'failed:start_refused',
  'failed:start_unconfirmed',
  'failed:deadline_exceeded',
];

function taskIn(situation: Situation, withTaskId = situation !== 'starting'): Task {
  const task = newStartingTask({ recordUserId: RUI, roomId: 1234 }, ctx());
  const [status, reason] = situation.split(':') as [TaskStatus, FailureReason | undefined];
  task.status = status;
  if (withTaskId) task.taskId = TASK_ID;
  if (reason !== undefined) task.failure = { reason, detail: 'test' };
  return task;
}

const started = (errorCode = 0): RecordingEvent => ({ type: 'callback_started', taskId: TASK_ID, errorCode, errorMsg: '', raw: '{}' });
const finished = (errorCode = 0): RecordingEvent => ({
  type: 'callback_finished',
  taskId: TASK_ID,
  errorCode,
  errorMsg: errorCode === 0 ? '' : 'boom',
  startTimeSeconds: 100,
  stopTimeSeconds: 200,
  tracks: normalizeVideos(SAMPLE_VIDEOS),
  raw: '{"callback_type":"record_finished"}',
});
const query = (status: 'prepared' | 'recording' | 'finished'): RecordingEvent => ({
  type: 'query_answer',
  answer: { taskId: TASK_ID, status, startTimeSeconds: 100, stopTimeSeconds: 0, tracks: status === 'finished' ? normalizeVideos(SAMPLE_VIDEOS) : [] },
});
const failure = { operation: 'start' as const, code: 20099, message: 'internal', random: 7 };

const OPEN: Situation[] = ['starting', 'prepared', 'recording', 'stopping'];
const RECOVERABLE: Situation[] = ['failed:start_unconfirmed', 'failed:deadline_exceeded'];

/** For each event, the situations it may leave from, and the status it leads to. */
const MATRIX: { name: string; event: RecordingEvent; from: Situation[]; to: TaskStatus | 'same' }[] = [
  { name: 'start_accepted', event: { type: 'start_accepted', taskId: TASK_ID }, from: ['starting'], to: 'prepared' },
  { name: 'start_refused', event: { type: 'start_refused', error: failure }, from: ['starting'], to: 'failed' },
  { name: 'start_unanswered', event: { type: 'start_unanswered', error: { ...failure, code: undefined } }, from: ['starting'], to: 'same' },
  { name: 'record_started ok', event: started(), from: ['starting', 'prepared'], to: 'recording' },
  { name: 'record_started failed', event: started(20099), from: OPEN, to: 'failed' },
  { name: 'record_finished ok', event: finished(), from: [...OPEN, ...RECOVERABLE], to: 'finished' },
  { name: 'record_finished failed', event: finished(20099), from: [...OPEN, ...RECOVERABLE], to: 'failed' },
  { name: 'query prepared', event: query('prepared'), from: ['starting'], to: 'prepared' },
  { name: 'query recording', event: query('recording'), from: ['starting', 'prepared'], to: 'recording' },
  { name: 'query finished', event: query('finished'), from: [...OPEN, ...RECOVERABLE], to: 'finished' },
  { name: 'stop_requested', event: { type: 'stop_requested' }, from: ['prepared', 'recording'], to: 'stopping' },
  { name: 'stop_already_ended', event: { type: 'stop_already_ended' }, from: ['prepared', 'recording'], to: 'stopping' },
  { name: 'upstream_failed', event: { type: 'upstream_failed', error: { ...failure, operation: 'query' } }, from: SITUATIONS, to: 'same' },
  { name: 'deadline_exceeded', event: { type: 'deadline_exceeded', reason: 'deadline_exceeded', detail: 'late' }, from: OPEN, to: 'failed' },
];

describe('the state machine, event by situation', () => {
  for (const row of MATRIX) {
    for (const situation of SITUATIONS) {
      const allowed = row.from.includes(situation);
      it(`${row.name} from ${situation} is ${allowed ? 'applied' : 'rejected'}`, () => {
        const task = taskIn(situation);
        const plan = planFor(row.event, ctx(5));
        expect(planAllows(task, plan)).toBe(allowed);
        if (allowed) {
          const next = applyPlan(task, plan);
          expect(next.status).toBe(row.to === 'same' ? task.status : row.to);
          expect(next.version).toBe(task.version + 1);
          expect(STATUS_RANK[next.status]).toBeGreaterThanOrEqual(STATUS_RANK[task.status]);
        }
      });
    }
  }

  it('check_scheduled needs both the expected attempt and the status the decision was based on', () => {
    const task = taskIn('prepared');
    const claim = (expectedAttempt: number, basedOnStatus: TaskStatus) =>
      planFor({ type: 'check_scheduled', expectedAttempt, basedOnStatus, phase: 'start', delaySeconds: 20, nextAtMs: T0 + 20_000 }, ctx());
    expect(planAllows(task, claim(1, 'prepared'))).toBe(true);
    expect(planAllows(task, claim(2, 'prepared'))).toBe(false);
    expect(planAllows(task, claim(1, 'recording'))).toBe(false);
    const next = applyPlan(task, claim(1, 'prepared'));
    expect(next.check).toEqual({ attempt: 2, phase: 'start', delaySeconds: 20, nextAtMs: T0 + 20_000 });
  });

  it('a callback naming another vendor task is rejected; one naming ours fills an unknown task id', () => {
    const withOther = taskIn('prepared');
    withOther.taskId = 'someone-else';
    expect(planAllows(withOther, planFor(started(), ctx()))).toBe(false);
    const unanswered = taskIn('starting', false);
    const next = applyPlan(unanswered, planFor(started(), ctx()));
    expect(next.taskId).toBe(TASK_ID);
    expect(next.status).toBe('recording');
  });

  it('terminal moves drop the pending check and set the expiry; recovery clears the failure', () => {
    const task = taskIn('failed:deadline_exceeded');
    const next = applyPlan(task, planFor(finished(), ctx(10)));
    expect(next.status).toBe('finished');
    expect(next.failure).toBeUndefined();
    expect(next.check.nextAtMs).toBeUndefined();
    expect(next.expiresAtSeconds).toBe(Math.floor((T0 + 10_000) / 1000) + settings.retentionSeconds);
    expect(next.tracks.map((track) => track.fileId)).toEqual(['f1', 'f2']);
    expect(next.timeline.at(-1)).toMatchObject({ status: 'finished', source: 'callback' });
  });

  it('a failed record_finished keeps the vendor code and message', () => {
    const next = applyPlan(taskIn('stopping'), planFor(finished(20099), ctx()));
    expect(next.failure).toMatchObject({ reason: 'upstream_error', code: 20099 });
    expect(next.failure?.detail).toContain('boom');
  });

  it('stop starts a new check chain: the attempt is bumped, the stop phase begins', () => {
    const task = taskIn('recording');
    const next = applyPlan(task, planFor({ type: 'stop_requested' }, ctx()));
    expect(next.check.attempt).toBe(task.check.attempt + 1);
    expect(next.check.phase).toBe('stop');
    expect(next.check.delaySeconds).toBe(settings.stopCheckDelaySeconds);
    const ended = applyPlan(task, planFor({ type: 'stop_already_ended' }, ctx()));
    expect(ended.check.delaySeconds).toBe(0);
    expect(ended.check.nextAtMs).toBe(T0);
  });

  it('raw callback bodies and tracks are bounded', () => {
    const big = 'é'.repeat(MAX_RAW_CALLBACK_BYTES);
    expect(Buffer.byteLength(truncateUtf8(big, MAX_RAW_CALLBACK_BYTES))).toBeLessThanOrEqual(MAX_RAW_CALLBACK_BYTES);
    const many = Array.from({ length: MAX_TRACKS_PER_TASK + 5 }, (_, i) => ({ ...SAMPLE_VIDEOS[0]!, video_id: `f${i}` }));
    const event: RecordingEvent = { ...(finished() as Extract<RecordingEvent, { type: 'callback_finished' }>), tracks: normalizeVideos(many), raw: big };
    const next = applyPlan(taskIn('stopping'), planFor(event, ctx()));
    expect(next.tracks).toHaveLength(MAX_TRACKS_PER_TASK);
    expect(next.timeline.at(-1)?.detail).toContain(`of ${MAX_TRACKS_PER_TASK + 5} tracks kept`);
    expect(Buffer.byteLength(next.rawCallbacks.recordFinished ?? '')).toBeLessThanOrEqual(MAX_RAW_CALLBACK_BYTES);
    // Few tracks, but long URLs: the byte budget, not the count, cuts them.
    const long = Array.from({ length: 40 }, (_, i) => ({ ...SAMPLE_VIDEOS[0]!, video_id: `l${i}`, video_url: 'u'.repeat(10_000) }));
    const bulky = applyPlan(taskIn('stopping'), planFor({ ...event, tracks: normalizeVideos(long) }, ctx()));
    const keptBytes = bulky.tracks.reduce((sum, track) => sum + Buffer.byteLength(JSON.stringify(track.raw)), 0);
    expect(bulky.tracks.length).toBeLessThan(40);
    expect(keptBytes).toBeLessThanOrEqual(MAX_TRACKS_BYTES);
    expect(bulky.timeline.at(-1)?.detail).toContain('of 40 tracks kept');
  });
});

async function storeWith(task: Task): Promise<MemoryTaskStore> {
  const store = new MemoryTaskStore();
  await store.create(task);
  return store;
}

describe('applying events: duplicates, late and reordered callbacks', () => {
  it('a duplicate record_finished changes nothing but its arrival count', async () => {
    const store = await storeWith(taskIn('stopping'));
    const first = await applyEvent(store, RUI, finished(), ctx(1));
    expect(first.outcome).toBe('applied');
    const second = await applyEvent(store, RUI, finished(), ctx(61));
    expect(second.outcome).toBe('duplicate');
    if (first.outcome === 'unknown_task' || second.outcome === 'unknown_task') throw new Error('unreachable');
    const { version: _v1, updatedAt: _u1, callbacks: c1, ...before } = first.task;
    const { version: _v2, updatedAt: _u2, callbacks: c2, ...after } = second.task;
    expect(after).toEqual(before);
    expect(c1.recordFinished?.count).toBe(1);
    expect(c2.recordFinished).toEqual({ count: 2, firstAt: c1.recordFinished?.firstAt, lastAt: new Date(T0 + 61_000).toISOString() });
  });

  it('a late record_started after finished is recorded and never undoes finished', async () => {
    const store = await storeWith(taskIn('stopping'));
    await applyEvent(store, RUI, finished(), ctx(1));
    const late = await applyEvent(store, RUI, started(), ctx(600));
    expect(late.outcome).toBe('late');
    const task = await store.get(RUI);
    expect(task?.status).toBe('finished');
    expect(task?.callbacks.recordStarted?.count).toBe(1);
  });

  it('record_finished before record_started: finished, then the started one only counts', async () => {
    const store = await storeWith(taskIn('prepared'));
    expect((await applyEvent(store, RUI, finished(), ctx(1))).outcome).toBe('applied');
    expect((await applyEvent(store, RUI, started(), ctx(2))).outcome).toBe('late');
    expect((await store.get(RUI))?.status).toBe('finished');
  });

  it('a callback for a task we do not have is unknown_task; one naming another vendor task is task_mismatch', async () => {
    const store = await storeWith(taskIn('prepared'));
    expect((await applyEvent(store, 'tic_record_user_1234_other', started(), ctx())).outcome).toBe('unknown_task');
    const mismatch = await applyEvent(store, RUI, { ...(started() as Extract<RecordingEvent, { type: 'callback_started' }>), taskId: 'x' }, ctx());
    expect(mismatch.outcome).toBe('task_mismatch');
    expect((await store.get(RUI))?.status).toBe('prepared');
  });

  it('a query answer that changes nothing still counts the poll', async () => {
    const store = await storeWith(taskIn('stopping'));
    const result = await applyEvent(store, RUI, query('recording'), ctx());
    expect(result.outcome).toBe('no_change');
    expect((await store.get(RUI))?.polls).toBe(1);
  });
});

describe('status only moves forward, whatever arrives in whatever order', () => {
  const eventArb: fc.Arbitrary<RecordingEvent> = fc.oneof(
    fc.constant<RecordingEvent>({ type: 'start_accepted', taskId: TASK_ID }),
    fc.constant<RecordingEvent>({ type: 'start_refused', error: failure }),
    fc.constant<RecordingEvent>({ type: 'start_unanswered', error: failure }),
    fc.constantFrom(0, 20099).map(started),
    fc.constantFrom(0, 20099).map(finished),
    fc.constantFrom('prepared' as const, 'recording' as const, 'finished' as const).map(query),
    fc.constant<RecordingEvent>({ type: 'stop_requested' }),
    fc.constant<RecordingEvent>({ type: 'stop_already_ended' }),
    fc.constant<RecordingEvent>({ type: 'deadline_exceeded', reason: 'deadline_exceeded', detail: 'x' }),
    fc.constant<RecordingEvent>({ type: 'deadline_exceeded', reason: 'start_unconfirmed', detail: 'x' }),
  );

  it('rank never decreases; a terminal status changes only by recovering our own verdict', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(eventArb, { minLength: 1, maxLength: 12 }), async (events) => {
        const store = await storeWith(taskIn('starting'));
        let previous = (await store.get(RUI))!;
        let second = 0;
        for (const event of events) {
          second += 1;
          await applyEvent(store, RUI, event, ctx(second));
          const now = (await store.get(RUI))!;
          expect(STATUS_RANK[now.status]).toBeGreaterThanOrEqual(STATUS_RANK[previous.status]);
          if (previous.status === 'finished') expect(now.status).toBe('finished');
          if (previous.status === 'failed' && now.status !== 'failed') {
            expect(['start_unconfirmed', 'deadline_exceeded']).toContain(previous.failure?.reason);
            expect(event.type === 'callback_finished' || event.type === 'query_answer').toBe(true);
          }
          expect(now.version).toBeGreaterThanOrEqual(previous.version);
          expect(now.timeline.length).toBeGreaterThanOrEqual(previous.timeline.length);
          if (now.status === 'finished' || now.status === 'failed') expect(now.check.nextAtMs).toBeUndefined();
          previous = now;
        }
      }),
      { numRuns: 300 },
    );
  });
});
