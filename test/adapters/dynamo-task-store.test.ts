import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DeleteCommand, DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoTaskStore } from '../../lib/adapters/dynamo-task-store';
import { MemoryTaskStore } from '../../lib/adapters/memory-task-store';
import { applyEvent, type EventResult } from '../../lib/recording/apply-event';
import { IdempotencyConflict, ValidationError } from '../../lib/recording/errors';
import type { TaskStore } from '../../lib/recording/ports';
import { resolveSettings } from '../../lib/recording/settings';
import type { Task, TaskStatus } from '../../lib/recording/task';
import { newStartingTask, type RecordingEvent, type TransitionContext } from '../../lib/recording/transitions';
import { normalizeVideos } from '../../lib/tic/tracks';
import type { VideoInfo } from '../../lib/tic/wire';
import { provisionForTest } from '../support/local-aws';

const settings = resolveSettings();
const T0 = Date.parse('2025-03-01T08:00:00.000Z');
const ctxAt = (ms: number): TransitionContext => ({ nowMs: ms, settings });

let raw: DynamoDBClient;
let doc: DynamoDBDocumentClient;
let store: DynamoTaskStore;
let tableName: string;

beforeAll(async () => {
  const local = await provisionForTest('dynamo-store');
  tableName = local.tableName;
  raw = new DynamoDBClient({ endpoint: local.dynamoEndpoint, region: local.region, credentials: local.credentials });
  doc = DynamoDBDocumentClient.from(raw);
  store = new DynamoTaskStore(doc, tableName);
});

afterAll(() => {
  raw?.destroy();
});

let roomCounter = 1000;
function freshTask(nowMs = T0, roomId = (roomCounter += 1)): Task {
  return newStartingTask({ recordUserId: `tic_record_user_${roomId}_${randomBytes(4).toString('hex')}`, roomId, groupId: 'g', whiteboard: { width: 1280, height: 960 } }, ctxAt(nowMs));
}

async function rawItem(recordUserId: string): Promise<Record<string, unknown> | undefined> {
  const { Item } = await doc.send(new GetCommand({ TableName: tableName, Key: { pk: `REC#${recordUserId}` }, ConsistentRead: true }));
  return Item;
}

function outcomeOf(result: EventResult): string {
  return result.outcome;
}

describe('DynamoTaskStore', () => {
  it('stores a task and reads it back as it was', async () => {
    const task = freshTask();
    expect(await store.create(task)).toEqual({ created: true, task });
    expect(await store.get(task.recordUserId)).toEqual(task);
    const item = await rawItem(task.recordUserId);
    expect(item).toMatchObject({ pk: `REC#${task.recordUserId}`, status: 'starting', open: 'open', room_id: task.roomId, check_attempt: 1 });
    expect(await store.get('tic_record_user_1_missing')).toBeUndefined();
  });

  it('a plan on a missing task is not applied and reports no current task', async () => {
    const result = await store.apply('tic_record_user_1_missing', { event: 'stop_requested', condition: {}, set: { updatedAt: new Date(T0).toISOString() } });
    expect(result).toEqual({ applied: false, current: undefined });
  });

  it('terminal tasks leave the sweep index and get their expiry; tracks are stored once, as the vendor sent them', async () => {
    const task = freshTask();
    await store.create(task);
    const videos: VideoInfo[] = [
      { video_play_time: 5, video_size: 10, video_format: 'mp4', video_duration: 1000, video_url: 'u2', video_id: 'b', video_type: 1, user_id: 'x' },
      { video_play_time: 0, video_size: 10, video_format: 'mp4', video_duration: 1000, video_url: 'u1', video_id: 'a', video_type: 0, user_id: 'x' },
    ];
    const result = await applyEvent(store, task.recordUserId, {
      type: 'callback_finished', taskId: 't-1', errorCode: 0, errorMsg: '', startTimeSeconds: 1, stopTimeSeconds: 2, tracks: normalizeVideos(videos), raw: '{"x":1}',
    }, ctxAt(T0 + 1000));
    expect(result.outcome).toBe('applied');
    const item = await rawItem(task.recordUserId);
    expect(item?.open).toBeUndefined();
    expect(item?.next_check_at).toBeUndefined();
    expect(item?.expires_at).toBe(Math.floor((T0 + 1000) / 1000) + settings.retentionSeconds);
    expect(item?.tracks).toEqual([videos[1], videos[0]]);
    expect(item?.raw_callbacks).toEqual({ record_finished: '{"x":1}' });
    expect((await store.get(task.recordUserId))?.tracks.map((t) => t.fileId)).toEqual(['a', 'b']);
    expect((await store.findByTaskId('t-1'))?.recordUserId).toBe(task.recordUserId);
    expect(await store.findByTaskId('t-unknown')).toBeUndefined();
  });

  it('a result whose videos would not fit in one item still finishes the task, keeping what fits', async () => {
    const task = freshTask();
    await store.create(task);
    // 300 tracks (well under the count cap) with 2 KB signed URLs: ~650 KB, past DynamoDB's 400 KB item limit.
    const longUrl = `https://vod.example.com/${'a'.repeat(2000)}.mp4`;
    const videos: VideoInfo[] = Array.from({ length: 300 }, (_, i) => ({
      video_play_time: i, video_size: 10, video_format: 'mp4', video_duration: 1000, video_url: longUrl, video_id: `f${i}`, video_type: 0, user_id: `u${i}`,
    }));
    const result = await applyEvent(store, task.recordUserId, {
      type: 'callback_finished', taskId: 't-big', errorCode: 0, errorMsg: '', startTimeSeconds: 1, stopTimeSeconds: 2, tracks: normalizeVideos(videos), raw: 'x'.repeat(64 * 1024),
    }, ctxAt(T0 + 1000));
    expect(result.outcome).toBe('applied');
    const stored = await store.get(task.recordUserId);
    expect(stored?.status).toBe('finished');
    expect(stored?.tracks.length).toBeGreaterThan(0);
    expect(stored?.tracks.length).toBeLessThan(300);
    // The earliest tracks are the ones kept, and the timeline says some were dropped.
    expect(stored?.tracks[0]?.fileId).toBe('f0');
    expect(stored?.timeline.at(-1)?.detail).toMatch(/of 300 tracks kept/);
  });

  it('a failed result with a huge error_msg is stored, its message cut short', async () => {
    const task = freshTask();
    await store.create(task);
    const errorMsg = 'e'.repeat(300 * 1024);
    const result = await applyEvent(store, task.recordUserId, {
      type: 'callback_finished', taskId: 't-msg', errorCode: 20099, errorMsg, startTimeSeconds: 1, stopTimeSeconds: 2, tracks: [], raw: '{}',
    }, ctxAt(T0 + 1000));
    expect(result.outcome).toBe('applied');
    const stored = await store.get(task.recordUserId);
    expect(stored?.status).toBe('failed');
    expect(stored?.failure?.code).toBe(20099);
    expect(stored?.failure?.detail.length).toBeLessThan(2048);
  });
});

describe('plans rendered for DynamoDB mean what applyPlan means', () => {
  const TASK_ID = 'vendor-task';
  const videoArb: fc.Arbitrary<VideoInfo> = fc.record({
    video_play_time: fc.integer({ min: 0, max: 10_000 }),
    video_size: fc.integer({ min: 0, max: 1e9 }),
    video_format: fc.constantFrom('mp4', 'flv'),
    video_duration: fc.integer({ min: 0, max: 1e7 }),
    video_url: fc.webUrl(),
    video_id: fc.string({ minLength: 1, maxLength: 8 }),
    video_type: fc.integer({ min: 0, max: 3 }),
    user_id: fc.string({ maxLength: 8 }),
  });
  const taskIdArb = fc.constantFrom(TASK_ID, TASK_ID, 'other-task');
  const errorArb = fc.record({
    operation: fc.constantFrom('start' as const, 'stop' as const, 'query' as const),
    code: fc.option(fc.constantFrom(20005, 20099), { nil: undefined }),
    message: fc.string({ maxLength: 20 }),
    random: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  }).map((error) => (error.code === undefined ? { operation: error.operation, message: error.message, random: error.random } : error));
  const statusArb = fc.constantFrom<TaskStatus>('starting', 'prepared', 'recording', 'stopping', 'finished', 'failed');

  const eventArb: fc.Arbitrary<RecordingEvent> = fc.oneof(
    taskIdArb.map((taskId): RecordingEvent => ({ type: 'start_accepted', taskId })),
    errorArb.map((error): RecordingEvent => ({ type: 'start_refused', error })),
    errorArb.map((error): RecordingEvent => ({ type: 'start_unanswered', error })),
    fc.record({ taskId: taskIdArb, errorCode: fc.constantFrom(0, 0, 20099), raw: fc.string({ maxLength: 40 }) }).map(
      ({ taskId, errorCode, raw }): RecordingEvent => ({ type: 'callback_started', taskId, errorCode, errorMsg: 'm', raw }),
    ),
    fc.record({ taskId: taskIdArb, errorCode: fc.constantFrom(0, 0, 20099), videos: fc.array(videoArb, { maxLength: 4 }), raw: fc.string({ maxLength: 40 }) }).map(
      ({ taskId, errorCode, videos, raw }): RecordingEvent => ({
        type: 'callback_finished', taskId, errorCode, errorMsg: 'm', startTimeSeconds: 100, stopTimeSeconds: 200, tracks: normalizeVideos(videos), raw,
      }),
    ),
    fc.record({ taskId: taskIdArb, status: fc.constantFrom('prepared' as const, 'recording' as const, 'finished' as const), videos: fc.array(videoArb, { maxLength: 3 }) }).map(
      ({ taskId, status, videos }): RecordingEvent => ({
        type: 'query_answer', answer: { taskId, status, startTimeSeconds: 100, stopTimeSeconds: 0, tracks: normalizeVideos(videos) },
      }),
    ),
    fc.constant<RecordingEvent>({ type: 'stop_requested' }),
    fc.constant<RecordingEvent>({ type: 'stop_already_ended' }),
    errorArb.map((error): RecordingEvent => ({ type: 'upstream_failed', error })),
    fc.constantFrom('deadline_exceeded' as const, 'start_unconfirmed' as const).map((reason): RecordingEvent => ({ type: 'deadline_exceeded', reason, detail: 'late' })),
    fc.record({ expectedAttempt: fc.integer({ min: 1, max: 3 }), basedOnStatus: statusArb, phase: fc.constantFrom('start' as const, 'stop' as const), delaySeconds: fc.integer({ min: 0, max: 900 }) }).map(
      (claim): RecordingEvent => ({ type: 'check_scheduled', ...claim, nextAtMs: T0 + claim.delaySeconds * 1000 }),
    ),
  );

  it('the same events applied to the in-memory and the DynamoDB store give the same outcomes and tasks', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(eventArb, { minLength: 1, maxLength: 10 }), async (events) => {
        const memory = new MemoryTaskStore();
        const task = freshTask();
        await memory.create(task);
        await store.create(task);
        let nowMs = T0;
        for (const event of events) {
          nowMs += 1500;
          const ctx = ctxAt(nowMs);
          const stores: TaskStore[] = [memory, store];
          const [inMemory, inDynamo] = await Promise.all(stores.map((s) => applyEvent(s, task.recordUserId, event, ctx)));
          expect(outcomeOf(inDynamo!)).toBe(outcomeOf(inMemory!));
          expect(await store.get(task.recordUserId)).toEqual(await memory.get(task.recordUserId));
        }
      }),
      { numRuns: 100 },
    );
  });
});

describe('concurrent writers', () => {
  it('record_started and a stop at the same moment both land, in some order, and nothing is lost', async () => {
    const task = freshTask();
    await store.create(task);
    await applyEvent(store, task.recordUserId, { type: 'start_accepted', taskId: 'tid-c1' }, ctxAt(T0 + 1000));
    const ctx = ctxAt(T0 + 2000);
    const outcomes = await Promise.all([
      applyEvent(store, task.recordUserId, { type: 'callback_started', taskId: 'tid-c1', errorCode: 0, errorMsg: '', raw: '{}' }, ctx),
      applyEvent(store, task.recordUserId, { type: 'stop_requested' }, ctx),
    ]);
    const final = (await store.get(task.recordUserId))!;
    expect(final.status).toBe('stopping');
    expect(final.callbacks.recordStarted?.count).toBe(1);
    expect(outcomes.map(outcomeOf)).toContain('applied');
    // Either order is right: started then stopped (both applied), or stopped first (the started one only counts).
    const statuses = final.timeline.map((entry) => entry.status);
    expect([
      ['starting', 'prepared', 'recording', 'stopping'],
      ['starting', 'prepared', 'stopping'],
    ]).toContainEqual(statuses);
    expect(final.version).toBe(4);
  });

  it('parallel duplicates of record_finished: one applies, the rest only count', async () => {
    const task = freshTask();
    await store.create(task);
    const event: RecordingEvent = { type: 'callback_finished', taskId: 'tid-c2', errorCode: 0, errorMsg: '', startTimeSeconds: 1, stopTimeSeconds: 2, tracks: [], raw: '{}' };
    const results = await Promise.all([1, 2, 3, 4].map(() => applyEvent(store, task.recordUserId, event, ctxAt(T0 + 5000))));
    expect(results.filter((r) => r.outcome === 'applied')).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'duplicate' || r.outcome === 'late')).toHaveLength(3);
    const final = (await store.get(task.recordUserId))!;
    expect(final.callbacks.recordFinished?.count).toBe(4);
    expect(final.timeline.filter((entry) => entry.status === 'finished')).toHaveLength(1);
  });

  it('two claims of the same check attempt: exactly one wins', async () => {
    const task = freshTask();
    await store.create(task);
    const claim: RecordingEvent = { type: 'check_scheduled', expectedAttempt: 1, basedOnStatus: 'starting', phase: 'start', delaySeconds: 20, nextAtMs: T0 + 20_000 };
    const results = await Promise.all([1, 2, 3].map(() => applyEvent(store, task.recordUserId, claim, ctxAt(T0 + 10_000))));
    expect(results.map(outcomeOf).sort()).toEqual(['applied', 'stale', 'stale']);
    expect((await store.get(task.recordUserId))?.check.attempt).toBe(2);
  });

  it('counters written by many writers at once add up', async () => {
    const task = freshTask();
    await store.create(task);
    const failure: RecordingEvent = { type: 'upstream_failed', error: { operation: 'query', code: 20099, message: 'x', random: 1 } };
    await Promise.all(Array.from({ length: 6 }, () => applyEvent(store, task.recordUserId, failure, ctxAt(T0))));
    const final = (await store.get(task.recordUserId))!;
    expect(final.polls).toBe(6);
    expect(final.version).toBe(7);
  });
});

describe('idempotent create', () => {
  const record = (keyHash: string, requestHash: string) => ({ keyHash, requestHash, expiresAtSeconds: T0 / 1000 + 86_400 });

  it('same key and request → the first task; another request → IdempotencyConflict', async () => {
    const key = randomBytes(8).toString('hex');
    const first = freshTask();
    expect((await store.create(first, record(key, 'req-a'))).created).toBe(true);
    const again = await store.create(freshTask(), record(key, 'req-a'));
    expect(again).toEqual({ created: false, task: first });
    await expect(store.create(freshTask(), record(key, 'req-b'))).rejects.toBeInstanceOf(IdempotencyConflict);
    const idem = await doc.send(new GetCommand({ TableName: tableName, Key: { pk: `IDEM#${key}` }, ConsistentRead: true }));
    expect(idem.Item).toMatchObject({ request_hash: 'req-a', record_user_id: first.recordUserId });
  });

  it('the same key sent three times at once creates one task', async () => {
    const key = randomBytes(8).toString('hex');
    const tasks = [freshTask(), freshTask(), freshTask()];
    const results = await Promise.all(tasks.map((task) => store.create(task, record(key, 'req'))));
    const created = results.filter((result) => result.created);
    expect(created).toHaveLength(1);
    const winner = created[0]!.task.recordUserId;
    expect(results.map((result) => result.task.recordUserId)).toEqual([winner, winner, winner]);
    const losers = tasks.filter((task) => task.recordUserId !== winner);
    for (const loser of losers) expect(await store.get(loser.recordUserId)).toBeUndefined();
  });
});

describe('room listing', () => {
  it('pages newest first with an opaque cursor, and refuses cursors it did not make', async () => {
    const roomId = (roomCounter += 1);
    const made: Task[] = [];
    for (let i = 0; i < 5; i += 1) {
      const task = freshTask(T0 + i * 1000, roomId);
      await store.create(task);
      made.push(task);
    }
    await store.create(freshTask(T0 + 10_000, roomId + 1));
    const seen: string[] = [];
    let cursor: string | undefined;
    const pageSizes: number[] = [];
    do {
      const page = await store.listByRoom(roomId, { limit: 2, ...(cursor === undefined ? {} : { cursor }) });
      pageSizes.push(page.tasks.length);
      seen.push(...page.tasks.map((task) => task.recordUserId));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    expect(pageSizes).toEqual([2, 2, 1]);
    expect(seen).toEqual(made.map((task) => task.recordUserId).reverse());
    const exact = await store.listByRoom(roomId, { limit: 5 });
    expect(exact.nextCursor).toBeUndefined();

    const firstPage = await store.listByRoom(roomId, { limit: 2 });
    await expect(store.listByRoom(roomId + 1, { limit: 2, cursor: firstPage.nextCursor! })).rejects.toBeInstanceOf(ValidationError);
    for (const bad of ['garbage!', 'e30', Buffer.from('["x",1,"y"]').toString('base64url')]) {
      await expect(store.listByRoom(roomId, { limit: 2, cursor: bad })).rejects.toMatchObject({ name: 'ValidationError', field: 'cursor' });
    }
  });
});

/**
 * The real document client, with DynamoDB's rarer answers made to happen: each of the first
 * `unprocessedAnswers` BatchGetItem requests reads only its first key and hands the rest back as
 * UnprocessedKeys (as DynamoDB does when throttled); `afterQuery` runs between a Query's answer
 * and the caller seeing it.
 */
function faultyClient(faults: { unprocessedAnswers: number; afterQuery?: () => Promise<void> }) {
  const calls = { batchGets: 0, keysAsked: [] as number[] };
  const client = {
    async send(command: unknown) {
      if (command instanceof BatchGetCommand) {
        calls.batchGets += 1;
        const [table, request] = Object.entries(command.input.RequestItems ?? {})[0]!;
        const keys = request.Keys ?? [];
        calls.keysAsked.push(keys.length);
        if (calls.batchGets > faults.unprocessedAnswers || keys.length <= 1) return doc.send(command);
        const output = await doc.send(new BatchGetCommand({ RequestItems: { [table]: { ...request, Keys: keys.slice(0, 1) } } }));
        return { ...output, UnprocessedKeys: { [table]: { ...request, Keys: keys.slice(1) } } };
      }
      const output = await doc.send(command as QueryCommand);
      if (command instanceof QueryCommand) await faults.afterQuery?.();
      return output;
    },
  };
  return { client: client as unknown as DynamoDBDocumentClient, calls };
}

describe('room listing reads the tasks themselves (the index holds keys only)', () => {
  // Rooms of their own: the test above also uses the room after its own.
  let listRoomCounter = 500_000;
  async function roomOf(count: number): Promise<{ roomId: number; tasks: Task[] }> {
    const roomId = (listRoomCounter += 1);
    const tasks: Task[] = [];
    for (let i = 0; i < count; i += 1) {
      const task = freshTask(T0 + i * 1000, roomId);
      await store.create(task);
      tasks.push(task);
    }
    return { roomId, tasks };
  }

  it('lists the current state of a task right after an update, newest first', async () => {
    const { roomId, tasks } = await roomOf(2);
    const [older, newer] = tasks as [Task, Task];
    await applyEvent(store, older.recordUserId, { type: 'start_accepted', taskId: 'tid-list-1' }, ctxAt(T0 + 5000));
    const result = await applyEvent(store, older.recordUserId, { type: 'callback_started', taskId: 'tid-list-1', errorCode: 0, errorMsg: '', raw: '{"a":1}' }, ctxAt(T0 + 6000));
    expect(result.outcome).toBe('applied');
    const current = (await store.get(older.recordUserId))!;
    expect(current.status).toBe('recording');

    const readsBefore = store.counters.reads;
    const page = await store.listByRoom(roomId, { limit: 10 });
    expect(page.tasks).toEqual([newer, current]);
    expect(page.nextCursor).toBeUndefined();
    // One Query of the index, one BatchGetItem of the tasks.
    expect(store.counters.reads - readsBefore).toBe(2);
  });

  it('asks again for the keys DynamoDB left unprocessed and keeps the index order', async () => {
    const { roomId, tasks } = await roomOf(4);
    const { client, calls } = faultyClient({ unprocessedAnswers: 2 });
    const faulty = new DynamoTaskStore(client, tableName);
    const page = await faulty.listByRoom(roomId, { limit: 3 });
    expect(page.tasks.map((task) => task.recordUserId)).toEqual(tasks.slice(1).reverse().map((task) => task.recordUserId));
    expect(page.nextCursor).toBeDefined();
    // 3 keys, then the 2 left over, then the last 1 (the third answer is whole).
    expect(calls.keysAsked).toEqual([3, 2, 1]);
    expect(faulty.counters.reads).toBe(4);
    const rest = await faulty.listByRoom(roomId, { limit: 3, cursor: page.nextCursor! });
    expect(rest.tasks.map((task) => task.recordUserId)).toEqual([tasks[0]!.recordUserId]);
    expect(rest.nextCursor).toBeUndefined();
  });

  it('gives up after a bounded number of requests when keys stay unprocessed', async () => {
    const { roomId } = await roomOf(10);
    const { client, calls } = faultyClient({ unprocessedAnswers: Number.POSITIVE_INFINITY });
    const faulty = new DynamoTaskStore(client, tableName);
    await expect(faulty.listByRoom(roomId, { limit: 10 })).rejects.toThrow(/unprocessed/);
    expect(calls.batchGets).toBeGreaterThan(1);
    expect(calls.batchGets).toBeLessThan(10);
  });

  it('skips a task that vanished between the index read and the table read, keeping the cursor on the index', async () => {
    const { roomId, tasks } = await roomOf(3);
    const [first, second, third] = tasks as [Task, Task, Task];
    const { client } = faultyClient({
      unprocessedAnswers: 0,
      afterQuery: async () => {
        await doc.send(new DeleteCommand({ TableName: tableName, Key: { pk: `REC#${third.recordUserId}` } }));
      },
    });
    const faulty = new DynamoTaskStore(client, tableName);
    const page = await faulty.listByRoom(roomId, { limit: 2 });
    expect(page.tasks).toEqual([second]);
    const rest = await store.listByRoom(roomId, { limit: 2, cursor: page.nextCursor! });
    expect(rest.tasks).toEqual([first]);
    expect(rest.nextCursor).toBeUndefined();
  });
});

describe('overdue checks (the sparse index)', () => {
  it('lists open tasks whose next check is overdue, oldest first, and never terminal ones', async () => {
    // A time far from every other test's tasks, so this table's other items do not interfere.
    const base = Date.parse('2001-01-01T00:00:00.000Z');
    const a = freshTask(base);
    const b = freshTask(base - 5000);
    const done = freshTask(base - 10_000);
    const notYet = freshTask(base + 3_600_000);
    for (const task of [a, b, done, notYet]) await store.create(task);
    await applyEvent(store, done.recordUserId, { type: 'deadline_exceeded', reason: 'start_unconfirmed', detail: 'x' }, ctxAt(base));
    const before = base + settings.startCheckDelaySeconds * 1000 + 1;
    const overdue = await store.listOverdue(before, 10);
    expect(overdue).toEqual([b.recordUserId, a.recordUserId]);
    expect(await store.listOverdue(before, 1)).toEqual([b.recordUserId]);
  });
});
