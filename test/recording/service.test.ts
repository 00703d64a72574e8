import { describe, expect, it } from 'vitest';
import { MemoryTaskStore } from '../../lib/adapters/memory-task-store';
import { parseCheckMessage } from '../../lib/recording/check-message';
import { IdempotencyConflict, TaskNotFound, TaskNotStartedYet, UpstreamRefused, ValidationError } from '../../lib/recording/errors';
import { toApiPage, toApiTask } from '../../lib/recording/presenter';
import { createRecordingService, type RecordingService } from '../../lib/recording/service';
import { MAX_SQS_DELAY_SECONDS } from '../../lib/recording/settings';
import type { Task } from '../../lib/recording/task';
import { TicErrorCode } from '../../lib/tic/errors';
import { FakeClock, FakeMetrics, FakeQueue, FakeVendor, ticError } from './fakes';

const ROOM = 1234;

function setup() {
  const clock = new FakeClock();
  const store = new MemoryTaskStore();
  const queue = new FakeQueue(clock);
  const vendor = new FakeVendor(clock);
  const metrics = new FakeMetrics();
  const sigsMade: string[] = [];
  const service = createRecordingService({
    store,
    queue,
    tic: vendor,
    clock,
    metrics,
    makeUserSig: (userId) => {
      sigsMade.push(userId);
      return `sig-for-${userId}`;
    },
  });
  /** Delivers the next check message at its due time (moving the clock) and runs it. */
  const deliverNext = async () => {
    const next = queue.takeNext();
    if (next === undefined) return undefined;
    clock.now = Math.max(clock.now, next.dueAtMs);
    return { sent: next, result: await service.runCheck(next.message) };
  };
  return { clock, store, queue, vendor, metrics, service, sigsMade, deliverNext };
}

async function start(service: RecordingService, body: unknown = { room_id: ROOM }, idempotencyKey?: string) {
  return service.startRecording({ body, callerId: 'caller-1', ...(idempotencyKey === undefined ? {} : { idempotencyKey }) });
}

describe('startRecording', () => {
  it('stores the task before calling start, makes the record user id and its UserSig, and schedules the start check', async () => {
    const { service, vendor, queue, store, sigsMade } = setup();
    const { task, replayed } = await start(service, { room_id: ROOM, group_id: 'g1', whiteboard: { width: 1280, height: 720 } });
    expect(replayed).toBe(false);
    expect(task.status).toBe('prepared');
    expect(task.recordUserId).toMatch(/^tic_record_user_1234_/);
    expect(task.taskId).toBe('vendortask1');
    const vendorTask = vendor.tasks.get('vendortask1')!;
    expect(vendorTask.input).toMatchObject({ roomId: ROOM, groupId: 'g1', userId: task.recordUserId, whiteboard: { width: 1280, height: 720 } });
    expect(vendorTask.input.userSig).toBe(`sig-for-${task.recordUserId}`);
    expect(sigsMade).toEqual([task.recordUserId]);
    expect(queue.sent).toEqual([
      expect.objectContaining({ message: { v: 1, record_user_id: task.recordUserId, attempt: 1, phase: 'start' }, delaySeconds: 10 }),
    ]);
    expect(JSON.stringify(await store.get(task.recordUserId))).not.toContain('sig-for');
  });

  it('uses a UserSig given by the caller and never stores it', async () => {
    const { service, vendor, store, sigsMade } = setup();
    const { task } = await start(service, { room_id: ROOM, user_sig: 'callers-own-sig' });
    expect(vendor.tasks.get(task.taskId!)!.input.userSig).toBe('callers-own-sig');
    expect(sigsMade).toEqual([]);
    expect(JSON.stringify(await store.get(task.recordUserId))).not.toContain('callers-own-sig');
    expect(JSON.stringify(toApiTask(task))).not.toContain('callers-own-sig');
  });

  it.each([
    [{ room_id: '1234' }, 'room_id'],
    [{ room_id: 0 }, 'room_id'],
    [{ room_id: 2 ** 31 }, 'room_id'],
    [{ room_id: ROOM, group_id: 'g'.repeat(65) }, 'group_id'],
    [{ room_id: ROOM, whiteboard: { width: 0, height: 10 } }, 'whiteboard.width'],
    [{ room_id: ROOM, whiteboard: { width: 10, height: 7681 } }, 'whiteboard.height'],
    [{ room_id: ROOM, extra: 1 }, 'extra'],
    [null, 'body'],
  ])('refuses %j naming %s, and starts nothing', async (body, field) => {
    const { service, vendor } = setup();
    const error = await start(service, body).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe(field);
    expect(vendor.calls.start).toBe(0);
  });

  it('a refused start fails the task and throws UpstreamRefused with the vendor code, message and random', async () => {
    const { service, vendor, queue, store } = setup();
    vendor.failNext.start = [ticError('start', TicErrorCode.SERVICE_NOT_ENABLED)];
    const error = await start(service).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamRefused);
    expect(error).toMatchObject({ code: 20000, random: 4242, operation: 'start', upstreamMessage: 'refused 20000' });
    const [task] = store.all();
    expect(task?.status).toBe('failed');
    expect(task?.failure?.reason).toBe('start_refused');
    expect(task?.lastUpstreamError).toMatchObject({ operation: 'start', code: 20000, random: 4242 });
    expect(queue.sent).toEqual([]);
  });

  it('a same-key replay of a refused start gets the same refusal, without a second start', async () => {
    const { service, vendor } = setup();
    vendor.failNext.start = [ticError('start', TicErrorCode.INTERNAL)];
    const first = await start(service, { room_id: ROOM }, 'key-refused').catch((e: unknown) => e);
    const again = await start(service, { room_id: ROOM }, 'key-refused').catch((e: unknown) => e);
    expect(first).toBeInstanceOf(UpstreamRefused);
    expect(again).toBeInstanceOf(UpstreamRefused);
    expect(again).toMatchObject({ code: (first as UpstreamRefused).code, random: (first as UpstreamRefused).random, operation: 'start' });
    expect(vendor.calls.start).toBe(1);
  });

  it('an unanswered start keeps the task starting; a callback naming its record user id completes it', async () => {
    const { service, vendor, queue } = setup();
    vendor.loseStartAnswer = ticError('start', undefined, 'timeout');
    const { task } = await start(service);
    expect(task.status).toBe('starting');
    expect(task.taskId).toBeUndefined();
    expect(task.lastUpstreamError).toMatchObject({ operation: 'start', message: 'timed out' });
    expect(queue.sent).toHaveLength(1);
    expect(vendor.calls.start).toBe(1);

    const result = await service.applyCallback(vendor.startedCallback('vendortask1'), '{}');
    expect(result.outcome).toBe('applied');
    expect(result.task).toMatchObject({ status: 'recording', taskId: 'vendortask1' });
    expect((await service.getRecording('vendortask1')).recordUserId).toBe(task.recordUserId);
    expect(vendor.calls.start).toBe(1);
  });

  it('an unanswered start that nothing ever confirms fails as start_unconfirmed at the start deadline, raising the metric', async () => {
    const { service, vendor, deliverNext, metrics, clock } = setup();
    vendor.failNext.start = [ticError('start', undefined, 'network')];
    const { task } = await start(service);
    let last;
    for (let i = 0; i < 20; i += 1) {
      const step = await deliverNext();
      if (step === undefined) break;
      last = step.result;
    }
    expect(last?.outcome).toBe('failed_deadline');
    expect(last?.task?.failure?.reason).toBe('start_unconfirmed');
    expect(vendor.calls.query).toBe(0);
    expect(clock.now).toBeGreaterThanOrEqual(Date.parse(task.createdAt) + service.settings.startDeadlineSeconds * 1000);
    expect(metrics.failedByDeadline.map((t) => t.recordUserId)).toEqual([task.recordUserId]);
  });

  it('same Idempotency-Key and body return the same task without a second start; another body is a conflict', async () => {
    const { service, vendor } = setup();
    const first = await start(service, { room_id: ROOM }, 'key-1');
    const again = await start(service, { room_id: ROOM }, 'key-1');
    expect(again.replayed).toBe(true);
    expect(again.task.recordUserId).toBe(first.task.recordUserId);
    expect(vendor.calls.start).toBe(1);
    await expect(start(service, { room_id: ROOM + 1 }, 'key-1')).rejects.toBeInstanceOf(IdempotencyConflict);
    const other = await service.startRecording({ body: { room_id: ROOM }, idempotencyKey: 'key-1', callerId: 'caller-2' });
    expect(other.replayed).toBe(false);
    expect(vendor.calls.start).toBe(2);
    await expect(start(service, { room_id: ROOM }, 'bad key with spaces')).rejects.toMatchObject({ field: 'Idempotency-Key' });
  });

  it('a retry with the same Idempotency-Key and a freshly made user_sig is the same request, not a conflict', async () => {
    const { service, vendor } = setup();
    const first = await start(service, { room_id: ROOM, user_sig: 'sig-made-at-first-try' }, 'key-2');
    const again = await start(service, { room_id: ROOM, user_sig: 'sig-made-for-the-retry' }, 'key-2');
    expect(again.replayed).toBe(true);
    expect(again.task.recordUserId).toBe(first.task.recordUserId);
    expect(vendor.calls.start).toBe(1);
  });

  it('a check message that cannot be sent does not fail the start: the sweep resumes the task', async () => {
    const { service, queue, clock } = setup();
    queue.failNext = 1;
    const { task } = await start(service);
    expect(queue.sent).toEqual([]);
    clock.advanceSeconds(service.settings.startCheckDelaySeconds + service.settings.sweepGraceSeconds + 1);
    const swept = await service.sweep();
    expect(swept).toEqual({ examined: 1, resumed: 1 });
    expect(queue.sent).toEqual([expect.objectContaining({ message: expect.objectContaining({ record_user_id: task.recordUserId, attempt: 2 }), delaySeconds: 0 })]);
  });
});

describe('stopRecording', () => {
  async function recording() {
    const env = setup();
    const { task } = await start(env.service);
    await env.service.applyCallback(env.vendor.startedCallback(task.taskId!), '{}');
    return { ...env, task };
  }

  it('stops by task id or record user id, moves to stopping and schedules the stop check', async () => {
    const { service, queue, task } = await recording();
    const stopped = await service.stopRecording(task.recordUserId);
    expect(stopped.status).toBe('stopping');
    expect(queue.sent.at(-1)).toMatchObject({ message: { phase: 'stop', attempt: 2 }, delaySeconds: 15 });
  });

  it('stopping twice calls the vendor once; stopping a finished task calls nobody', async () => {
    const { service, vendor, task } = await recording();
    await service.stopRecording(task.taskId!);
    const again = await service.stopRecording(task.taskId!);
    expect(again.status).toBe('stopping');
    expect(vendor.calls.stop).toBe(1);
    await service.applyCallback(vendor.finishedCallback(task.taskId!), '{}');
    expect((await service.stopRecording(task.taskId!)).status).toBe('finished');
    expect(vendor.calls.stop).toBe(1);
  });

  it('20011 means the task was over: stopping, checked at once, and the query fetches the result', async () => {
    const { service, vendor, task, queue, deliverNext } = await recording();
    vendor.autoStop(task.taskId!);
    vendor.failNext.stop = [ticError('stop', TicErrorCode.TASK_ALREADY_ENDED)];
    const stopped = await service.stopRecording(task.taskId!);
    expect(stopped.status).toBe('stopping');
    expect(stopped.timeline.at(-1)?.detail).toContain('20011');
    expect(queue.sent.at(-1)?.delaySeconds).toBe(0);
    queue.sent.splice(0, queue.sent.length - 1);
    const step = await deliverNext(); // immediate check: the vendor is still processing
    expect(step?.result.queried).toBe(true);
    let final = step!.result;
    while (final.outcome === 'rescheduled') final = (await deliverNext())!.result;
    expect(final.outcome).toBe('satisfied');
    expect(final.task?.status).toBe('finished');
    expect(final.task?.tracks).toHaveLength(2);
  });

  it('an unconfirmed start cannot be stopped yet; an unknown task is TaskNotFound', async () => {
    const { service, vendor } = setup();
    vendor.loseStartAnswer = ticError('start', undefined, 'timeout');
    const { task } = await start(service);
    await expect(service.stopRecording(task.recordUserId)).rejects.toBeInstanceOf(TaskNotStartedYet);
    await expect(service.stopRecording('nosuchtask')).rejects.toBeInstanceOf(TaskNotFound);
    await expect(service.getRecording('tic_record_user_1_nope')).rejects.toBeInstanceOf(TaskNotFound);
  });

  it('another vendor refusal is recorded on the task and thrown as UpstreamRefused', async () => {
    const { service, vendor, task } = await recording();
    vendor.failNext.stop = [ticError('stop', TicErrorCode.INTERNAL)];
    await expect(service.stopRecording(task.taskId!)).rejects.toMatchObject({ name: 'UpstreamRefused', code: 20099 });
    const stored = await service.getRecording(task.taskId!);
    expect(stored.status).toBe('recording');
    expect(stored.lastUpstreamError).toMatchObject({ operation: 'stop', code: 20099 });
  });
});

describe('callbacks', () => {
  it('unknown tasks and duplicates are answered without changing anything', async () => {
    const { service, vendor } = setup();
    const { task } = await start(service);
    const foreign = { ...vendor.startedCallback(task.taskId!), record_user_id: 'tic_record_user_9_zzz' };
    expect((await service.applyCallback(foreign, '{}')).outcome).toBe('unknown_task');
    expect((await service.applyCallback(vendor.startedCallback(task.taskId!), '{}')).outcome).toBe('applied');
    expect((await service.applyCallback(vendor.startedCallback(task.taskId!), '{}')).outcome).toBe('duplicate');
    expect((await service.getRecording(task.taskId!)).callbacks.recordStarted?.count).toBe(2);
  });

  it('a record_finished with an error code fails the recording with the vendor code', async () => {
    const { service, vendor } = setup();
    const { task } = await start(service);
    const result = await service.applyCallback(vendor.finishedCallback(task.taskId!, 20099, []), '{}');
    expect(result.task?.status).toBe('failed');
    expect(toApiTask(result.task!).failure).toMatchObject({ reason: 'upstream_error', code: 20099 });
  });
});

/** Runs every check message due, in order, until the queue is empty. */
async function drain(env: ReturnType<typeof setup>) {
  const results = [];
  for (let i = 0; i < 50; i += 1) {
    const step = await env.deliverNext();
    if (step === undefined) break;
    results.push(step);
  }
  return results;
}

describe('budget', () => {
  it('with callbacks on time: 1 start, 1 stop, 0 query, at most 6 writes and 2 check messages', async () => {
    const env = setup();
    const { service, vendor, store, queue, clock } = env;
    const { task } = await start(service);
    clock.advanceSeconds(3);
    await service.applyCallback(vendor.startedCallback(task.taskId!), '{}');
    const startChecks = await drain(env);
    clock.advanceSeconds(1800);
    await service.stopRecording(task.taskId!);
    clock.advanceSeconds(4);
    await service.applyCallback(vendor.finishedCallback(task.taskId!), '{}');
    const stopChecks = await drain(env);

    expect([...startChecks, ...stopChecks].map((step) => step.result.outcome)).toEqual(['satisfied', 'satisfied']);
    expect(vendor.calls).toMatchObject({ start: 1, stop: 1, query: 0 });
    expect(store.counters.writes).toBeLessThanOrEqual(6);
    expect(startChecks.length + stopChecks.length + queue.sent.length).toBeLessThanOrEqual(2);
    expect((await service.getRecording(task.taskId!)).status).toBe('finished');
  });

  it('with every callback lost: at most 5 queries, finished within one poll interval of the vendor', async () => {
    const env = setup();
    const { service, vendor, clock, store } = env;
    const { task } = await start(service);
    const startChecks = await drain(env);
    expect((await service.getRecording(task.taskId!)).status).toBe('recording');
    clock.advanceSeconds(3600);
    await service.stopRecording(task.taskId!);
    const stopChecks = await drain(env);
    const final = await service.getRecording(task.taskId!);
    expect(final.status).toBe('finished');
    expect(final.tracks).toHaveLength(2);
    expect(vendor.calls.query).toBeLessThanOrEqual(5);
    expect(final.polls).toBe(vendor.calls.query);
    const finishedAt = vendor.finishedAtMs(task.taskId!)!;
    const lastCheck = stopChecks.at(-1)!;
    // The check that saw it finished ran at most one check interval after the vendor finished.
    expect(clock.now).toBeGreaterThanOrEqual(finishedAt);
    expect(clock.now - finishedAt).toBeLessThanOrEqual(lastCheck.sent.delaySeconds * 1000);
    expect(store.counters.writes).toBeLessThanOrEqual(8);
    expect(startChecks.length).toBeGreaterThan(0);
  });
});

describe('runCheck', () => {
  it('ignores a query answer that names another record user id: no status, no videos, the chain goes on', async () => {
    const { service, vendor, clock, queue } = setup();
    const { task } = await start(service);
    clock.advanceSeconds(5); // the vendor is recording
    await service.stopRecording(task.taskId!);
    clock.advanceSeconds(60); // the vendor has finished
    const realQuery = vendor.query.bind(vendor);
    vendor.query = async (taskId) => {
      const result = await realQuery(taskId);
      return { ...result, answer: { ...result.answer, record_user_id: 'tic_record_user_1234_someoneelse' } };
    };
    const stopCheck = queue.sent.find((s) => s.message.phase === 'stop')!;
    const result = await service.runCheck(stopCheck.message);
    expect(result.queried).toBe(true);
    expect(result.outcome).toBe('rescheduled');
    expect(result.task?.status).toBe('stopping');
    expect(result.task?.tracks).toEqual([]);
    expect(result.task?.lastUpstreamError).toMatchObject({ operation: 'query', random: 3 });
    expect(result.task?.lastUpstreamError?.message).toContain('tic_record_user_1234_someoneelse');
  });

  it('drops a stale attempt without querying, and a check for a missing task', async () => {
    const { service, vendor } = setup();
    const { task } = await start(service);
    const stale = await service.runCheck({ v: 1, record_user_id: task.recordUserId, attempt: 7, phase: 'start' });
    expect(stale.outcome).toBe('stale');
    expect((await service.runCheck({ v: 1, record_user_id: 'tic_record_user_1_none', attempt: 1, phase: 'start' })).outcome).toBe('missing');
    expect(vendor.calls.query).toBe(0);
  });

  it('two deliveries of the same check cannot make two chains: one reschedules, the other is stale', async () => {
    const { service, clock, queue } = setup();
    const { task } = await start(service);
    clock.advanceSeconds(1); // the vendor is still preparing: the check must continue
    const message = queue.sent[0]!.message;
    const results = await Promise.all([service.runCheck(message), service.runCheck(message)]);
    expect(results.map((r) => r.outcome).sort()).toEqual(['rescheduled', 'stale']);
    expect(queue.sent.filter((s) => s.message.attempt === 2)).toHaveLength(1);
    expect((await service.getRecording(task.recordUserId)).check.attempt).toBe(2);
  });

  it('keeps checking through query errors (20005 included) with growing delays capped at 900 s, then fails at the deadline', async () => {
    const env = setup();
    const { service, vendor, metrics } = env;
    const { task } = await start(service);
    await service.applyCallback(vendor.startedCallback(task.taskId!), '{}');
    await drain(env);
    await service.stopRecording(task.taskId!);
    vendor.failNext.query = Array.from({ length: 100 }, (_, i) => ticError('query', i % 2 === 0 ? TicErrorCode.DATA_READ_FAILED : TicErrorCode.INTERNAL));
    const steps = await drain(env);
    const delays = steps.map((s) => s.sent.delaySeconds);
    expect(Math.max(...delays)).toBeLessThanOrEqual(MAX_SQS_DELAY_SECONDS);
    expect(delays.slice(0, 4)).toEqual([15, 30, 60, 120]);
    const last = steps.at(-1)!.result;
    expect(last.outcome).toBe('failed_deadline');
    expect(last.task?.failure?.reason).toBe('deadline_exceeded');
    expect(last.task?.lastUpstreamError?.operation).toBe('query');
    expect(last.task?.polls).toBe(vendor.calls.query);
    expect(metrics.failedByDeadline).toHaveLength(1);
    // A stop of a task we failed by deadline still reaches the vendor (its recorder may be in the room).
    const stopsBefore = vendor.calls.stop;
    expect((await service.stopRecording(task.taskId!)).status).toBe('failed');
    expect(vendor.calls.stop).toBe(stopsBefore + 1);
    // The vendor did finish after all: its late record_finished recovers the recording.
    const recovered = await service.applyCallback(vendor.finishedCallback(task.taskId!), '{}');
    expect(recovered.task?.status).toBe('finished');
    expect(recovered.task?.failure).toBeUndefined();
  });
});

describe('sweep', () => {
  it('resumes a task whose check was lost, and the old message becomes stale', async () => {
    const { service, queue, clock, metrics } = setup();
    const { task } = await start(service);
    const lost = queue.sent.splice(0)[0]!;
    clock.advanceSeconds(5);
    expect(await service.sweep()).toEqual({ examined: 0, resumed: 0 });
    clock.advanceSeconds(service.settings.startCheckDelaySeconds + service.settings.sweepGraceSeconds);
    expect(await service.sweep()).toEqual({ examined: 1, resumed: 1 });
    expect(metrics.resumed).toBe(1);
    expect((await service.runCheck(lost.message)).outcome).toBe('stale');
    const resumed = queue.sent[0]!;
    const result = await service.runCheck(resumed.message);
    expect(result.outcome).toBe('satisfied');
    expect(result.task?.status).toBe('recording');
    expect(result.task?.recordUserId).toBe(task.recordUserId);
  });

  it('leaves a running class alone until its maximum duration, then queries it', async () => {
    const env = setup();
    const { service, vendor, clock } = env;
    const { task } = await start(service);
    await service.applyCallback(vendor.startedCallback(task.taskId!), '{}');
    await drain(env);
    clock.advanceSeconds(3600);
    expect((await service.sweep()).resumed).toBe(0);
    clock.advanceSeconds(service.settings.maxRecordingSeconds + service.settings.sweepGraceSeconds);
    vendor.autoStop(task.taskId!);
    clock.advanceSeconds(10);
    expect((await service.sweep()).resumed).toBe(1);
    await drain(env);
    expect((await service.getRecording(task.taskId!)).status).toBe('finished');
  });
  it('stops a class nobody stopped once it outlives the longest expected recording, then fetches its result', async () => {
    const env = setup();
    const { service, vendor, clock } = env;
    const { task } = await start(service);
    await service.applyCallback(vendor.startedCallback(task.taskId!), '{}');
    await drain(env);
    // A camera left on: the vendor never auto-stops. Past the maximum, the sweep resumes the task.
    clock.advanceSeconds(service.settings.maxRecordingSeconds + service.settings.sweepGraceSeconds + 10);
    expect(vendor.calls.stop).toBe(0);
    expect((await service.sweep()).resumed).toBe(1);
    await drain(env);
    expect(vendor.calls.stop).toBe(1);
    const after = await service.getRecording(task.taskId!);
    expect(after.status).toBe('finished');
    expect(after.timeline.map((entry) => entry.status)).toEqual(['starting', 'prepared', 'recording', 'stopping', 'finished']);
  });
});

describe('reading', () => {
  it('lists a room newest first with a cursor, and presents snake_case JSON', async () => {
    const { service, clock } = setup();
    const made: Task[] = [];
    for (let i = 0; i < 3; i += 1) {
      made.push((await start(service)).task);
      clock.advanceSeconds(1);
    }
    await start(service, { room_id: ROOM + 1 });
    const first = await service.listRoomRecordings({ roomId: String(ROOM), limit: '2' });
    expect(first.tasks.map((t) => t.recordUserId)).toEqual([made[2]!.recordUserId, made[1]!.recordUserId]);
    const second = await service.listRoomRecordings({ roomId: ROOM, limit: 2, cursor: first.nextCursor! });
    expect(second.tasks.map((t) => t.recordUserId)).toEqual([made[0]!.recordUserId]);
    expect(second.nextCursor).toBeUndefined();
    await expect(service.listRoomRecordings({ roomId: ROOM, cursor: 'garbage' })).rejects.toMatchObject({ field: 'cursor' });
    await expect(service.listRoomRecordings({ roomId: 'x' })).rejects.toMatchObject({ field: 'room_id' });
    await expect(service.listRoomRecordings({ roomId: ROOM, limit: 101 })).rejects.toMatchObject({ field: 'limit' });
    const page = toApiPage(first);
    expect(page.next_cursor).toBe(first.nextCursor);
    expect(page.recordings[0]).toMatchObject({ record_user_id: made[2]!.recordUserId, room_id: ROOM, status: 'prepared', failure: null });
  });

  it('presents videos, callbacks and times', async () => {
    const { service, vendor } = setup();
    const { task } = await start(service);
    await service.applyCallback(vendor.startedCallback(task.taskId!), '{}');
    await service.stopRecording(task.taskId!);
    const done = (await service.applyCallback(vendor.finishedCallback(task.taskId!), '{}')).task!;
    const api = toApiTask(done);
    expect(api.videos[0]).toMatchObject({ kind: 'camera', offset_ms: 0, duration_ms: 22_504, size_bytes: 1_400_000, file_id: 'f1', user_id: 'teacher' });
    expect(api.videos[1]).toMatchObject({ kind: 'whiteboard', user_id: '' });
    expect(api.callbacks.record_started?.count).toBe(1);
    expect(api.callbacks.record_finished?.count).toBe(1);
    expect(api.timeline.map((e) => e.status)).toEqual(['starting', 'prepared', 'recording', 'stopping', 'finished']);
    expect(api.start_time).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(JSON.stringify(api)).not.toContain('raw_callbacks');
  });
});

describe('check messages', () => {
  it('parses version 1 and refuses anything else with a reason', () => {
    expect(parseCheckMessage('{"v":1,"record_user_id":"tic_record_user_1_a","attempt":3,"phase":"stop"}')).toEqual({
      ok: true,
      message: { v: 1, record_user_id: 'tic_record_user_1_a', attempt: 3, phase: 'stop' },
    });
    expect(parseCheckMessage('not json')).toEqual({ ok: false, reason: 'body is not JSON' });
    const wrong = parseCheckMessage('{"v":2,"record_user_id":"x","attempt":1,"phase":"stop"}');
    expect(wrong.ok).toBe(false);
    expect(parseCheckMessage('{"v":1,"record_user_id":"x","attempt":0,"phase":"stop"}')).toMatchObject({ ok: false, reason: expect.stringContaining('attempt') });
  });
});
