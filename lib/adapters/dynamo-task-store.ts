/**
 * The TaskStore on DynamoDB: one table, key `pk` (S) only.
 *
 * Task item: `pk = "REC#" + record_user_id`. The record user id is ours and known before the
 * vendor answers `start`, so the item exists even when `start` times out; and every callback
 * and query answer carries it, so applying a callback is ONE conditional UpdateItem with no
 * index read first. Indexes:
 * - `by-room` (room_id N, created_at S; KEYS_ONLY): a room's recordings, newest first. Keys
 *   only because neither key ever changes, so the index is written once per task, not on every
 *   update; a listing reads the page's keys from it and the tasks themselves from the table
 *   (BatchGetItem, strongly consistent);
 * - `by-task-id` (task_id S; KEYS_ONLY): our API's `{id}` may be the vendor's task id;
 * - `open-by-next-check` (open S, next_check_at N; KEYS_ONLY): sparse, only open tasks carry
 *   `open = "open"`, so the sweep reads open tasks only.
 * `expires_at` (epoch seconds) is the TTL, set when a task becomes terminal.
 *
 * Idempotency: `pk = "IDEM#" + sha256(caller, key)` holding the request hash and the record
 * user id, put in the SAME transaction as the task, both `attribute_not_exists(pk)`.
 *
 * Plans (lib/recording/transitions.ts) are rendered into one UpdateItem each; the meaning is
 * `applyPlan`'s, and test/adapters checks the two agree. Item size: a DynamoDB item is at
 * most 400 KB; tracks are capped by the domain (MAX_TRACKS_PER_TASK, MAX_TRACKS_BYTES) and stored once (the
 * vendor's VideoInfo, normalized again on read), raw callback bodies are one per type and
 * truncated to MAX_RAW_CALLBACK_BYTES. The UserSig is never stored.
 */
import {
  ConditionalCheckFailedException,
  TransactionCanceledException,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { IdempotencyConflict, ValidationError } from '../recording/errors';
import type { ApplyResult, CreateResult, IdempotencyRecord, TaskPage, TaskStore } from '../recording/ports';
import {
  isTerminal,
  type CallbackArrivals,
  type CallbackKind,
  type Failure,
  type Task,
  type TaskStatus,
  type TimelineEntry,
  type UpstreamErrorRecord,
} from '../recording/task';
import { MAX_RAW_CALLBACK_BYTES, truncateUtf8, type TransitionPlan } from '../recording/transitions';
import { normalizeVideos } from '../tic/tracks';
import type { VideoInfo } from '../tic/wire';

export const TASK_PK_PREFIX = 'REC#';
export const IDEMPOTENCY_PK_PREFIX = 'IDEM#';
export const INDEX_BY_ROOM = 'by-room';
export const INDEX_BY_TASK_ID = 'by-task-id';
export const INDEX_OPEN_BY_NEXT_CHECK = 'open-by-next-check';
/** The value of `open` on open tasks (the attribute is absent on terminal ones). */
export const OPEN_MARKER = 'open';

/** Transactions that lose a race with another transaction on the same items are tried again this often. */
const MAX_TRANSACTION_ATTEMPTS = 3;
const TRANSACTION_RETRY_DELAY_MS = 50;

/** BatchGetItem reads at most this many keys per request (a DynamoDB limit). */
const MAX_BATCH_GET_KEYS = 100;
/**
 * Keys DynamoDB leaves unprocessed (throttling, the 16 MB response limit) are asked again, after
 * a doubling delay, at most this many requests in all; then the listing fails rather than
 * silently returning a short page.
 */
const MAX_BATCH_GET_ATTEMPTS = 5;
const BATCH_GET_RETRY_BASE_DELAY_MS = 25;

/** The attribute name of each callback kind, in `callbacks` and `raw_callbacks`. */
const CALLBACK_ATTRIBUTE: Readonly<Record<CallbackKind, string>> = {
  recordStarted: 'record_started',
  recordFinished: 'record_finished',
};

/** Calls made, for the benchmark's "writes per recording". */
export interface StoreCounters {
  /** Write requests (a transaction counts once; `writeItems` counts its items). */
  writes: number;
  writeItems: number;
  reads: number;
}

export interface DynamoTaskStoreOptions {
  /** Called after every write request with its kind (e.g. to publish a metric). */
  onWrite?: (kind: 'create' | 'update') => void;
}

type Item = Record<string, unknown>;

interface StoredArrivals {
  count: number;
  first_at?: string;
  last_at?: string;
}

function taskKey(recordUserId: string): { pk: string } {
  return { pk: `${TASK_PK_PREFIX}${recordUserId}` };
}

/** Drops undefined fields: the document client refuses them unless told otherwise, and we do not rely on its options. */
function compact<T extends Item>(item: T): T {
  return Object.fromEntries(Object.entries(item).filter(([, value]) => value !== undefined)) as T;
}

function failureItem(failure: Failure): Item {
  return compact({ reason: failure.reason, detail: failure.detail, code: failure.code });
}

function upstreamErrorItem(error: UpstreamErrorRecord): Item {
  return compact({ operation: error.operation, code: error.code, message: error.message, random: error.random, at: error.at });
}

function timelineItem(entry: TimelineEntry): Item {
  return compact({ status: entry.status, at: entry.at, source: entry.source, detail: entry.detail });
}

function arrivalsItem(arrivals: CallbackArrivals | undefined): StoredArrivals {
  return arrivals === undefined ? { count: 0 } : { count: arrivals.count, first_at: arrivals.firstAt, last_at: arrivals.lastAt };
}

/** The item of a task (used on create; later changes go through plans). */
export function taskToItem(task: Task): Item {
  const open = !isTerminal(task.status);
  return compact({
    ...taskKey(task.recordUserId),
    record_user_id: task.recordUserId,
    task_id: task.taskId,
    room_id: task.roomId,
    group_id: task.groupId,
    whiteboard: task.whiteboard === undefined ? undefined : { width: task.whiteboard.width, height: task.whiteboard.height },
    status: task.status,
    version: task.version,
    created_at: task.createdAt,
    updated_at: task.updatedAt,
    timeline: task.timeline.map(timelineItem),
    tracks: task.tracks.map((track) => track.raw),
    start_time: task.startTimeSeconds,
    stop_time: task.stopTimeSeconds,
    // Both maps exist from the start so that plans can update nested paths in them.
    callbacks: {
      record_started: arrivalsItem(task.callbacks.recordStarted),
      record_finished: arrivalsItem(task.callbacks.recordFinished),
    },
    polls: task.polls,
    last_upstream_error: task.lastUpstreamError === undefined ? undefined : upstreamErrorItem(task.lastUpstreamError),
    failure: task.failure === undefined ? undefined : failureItem(task.failure),
    check_attempt: task.check.attempt,
    check_phase: task.check.phase,
    check_delay_seconds: task.check.delaySeconds,
    next_check_at: open ? task.check.nextAtMs : undefined,
    open: open ? OPEN_MARKER : undefined,
    deadline_at: task.deadlineAtMs,
    expires_at: task.expiresAtSeconds,
    raw_callbacks: compact({
      record_started: task.rawCallbacks.recordStarted,
      record_finished: task.rawCallbacks.recordFinished,
    }),
    idem_key_hash: task.idemKeyHash,
  });
}

function arrivalsFromItem(value: unknown): CallbackArrivals | undefined {
  const stored = value as StoredArrivals | undefined;
  if (stored === undefined || stored.count === 0 || stored.first_at === undefined || stored.last_at === undefined) {
    return undefined;
  }
  return { count: stored.count, firstAt: stored.first_at, lastAt: stored.last_at };
}

/** The task of an item. */
export function itemToTask(item: Item): Task {
  const callbacks = (item.callbacks ?? {}) as Record<string, unknown>;
  const raw = (item.raw_callbacks ?? {}) as Record<string, string | undefined>;
  const task: Task = {
    recordUserId: item.record_user_id as string,
    roomId: item.room_id as number,
    status: item.status as TaskStatus,
    version: item.version as number,
    createdAt: item.created_at as string,
    updatedAt: item.updated_at as string,
    timeline: ((item.timeline ?? []) as Item[]).map((entry) => {
      const out: TimelineEntry = { status: entry.status as TaskStatus, at: entry.at as string, source: entry.source as TimelineEntry['source'] };
      if (entry.detail !== undefined) out.detail = entry.detail as string;
      return out;
    }),
    tracks: normalizeVideos((item.tracks ?? []) as VideoInfo[]),
    callbacks: {},
    polls: (item.polls ?? 0) as number,
    check: {
      attempt: item.check_attempt as number,
      phase: item.check_phase as Task['check']['phase'],
      delaySeconds: item.check_delay_seconds as number,
    },
    deadlineAtMs: item.deadline_at as number,
    rawCallbacks: {},
  };
  const started = arrivalsFromItem(callbacks.record_started);
  const finished = arrivalsFromItem(callbacks.record_finished);
  if (started !== undefined) task.callbacks.recordStarted = started;
  if (finished !== undefined) task.callbacks.recordFinished = finished;
  if (raw.record_started !== undefined) task.rawCallbacks.recordStarted = raw.record_started;
  if (raw.record_finished !== undefined) task.rawCallbacks.recordFinished = raw.record_finished;
  if (item.task_id !== undefined) task.taskId = item.task_id as string;
  if (item.group_id !== undefined) task.groupId = item.group_id as string;
  if (item.whiteboard !== undefined) task.whiteboard = item.whiteboard as Task['whiteboard'] & object;
  if (item.start_time !== undefined) task.startTimeSeconds = item.start_time as number;
  if (item.stop_time !== undefined) task.stopTimeSeconds = item.stop_time as number;
  if (item.last_upstream_error !== undefined) task.lastUpstreamError = item.last_upstream_error as UpstreamErrorRecord;
  if (item.failure !== undefined) task.failure = item.failure as Failure;
  if (item.next_check_at !== undefined) task.check.nextAtMs = item.next_check_at as number;
  if (item.expires_at !== undefined) task.expiresAtSeconds = item.expires_at as number;
  if (item.idem_key_hash !== undefined) task.idemKeyHash = item.idem_key_hash as string;
  return task;
}

/** An UpdateItem's expressions, built clause by clause with placeholders for every name and value. */
class UpdateBuilder {
  readonly names: Record<string, string> = {};
  readonly values: Record<string, unknown> = {};
  readonly sets: string[] = [];
  readonly adds: string[] = [];
  readonly removes: string[] = [];
  readonly conditions: string[] = [];
  private valueCount = 0;

  /** `#a.#b` for the path `a.b`. */
  path(dotted: string): string {
    return dotted
      .split('.')
      .map((part) => {
        const placeholder = `#${part}`;
        this.names[placeholder] = part;
        return placeholder;
      })
      .join('.');
  }

  value(value: unknown): string {
    const placeholder = `:v${this.valueCount}`;
    this.valueCount += 1;
    this.values[placeholder] = value;
    return placeholder;
  }

  set(dotted: string, value: unknown): void {
    this.sets.push(`${this.path(dotted)} = ${this.value(value)}`);
  }

  render(): { UpdateExpression: string; ConditionExpression: string; ExpressionAttributeNames: Record<string, string>; ExpressionAttributeValues: Record<string, unknown> } {
    const clauses = [
      this.sets.length > 0 ? `SET ${this.sets.join(', ')}` : '',
      this.adds.length > 0 ? `ADD ${this.adds.join(', ')}` : '',
      this.removes.length > 0 ? `REMOVE ${this.removes.join(', ')}` : '',
    ].filter((clause) => clause !== '');
    return {
      UpdateExpression: clauses.join(' '),
      ConditionExpression: this.conditions.join(' AND '),
      ExpressionAttributeNames: this.names,
      ExpressionAttributeValues: this.values,
    };
  }
}

/** The UpdateItem of a plan: the same meaning as `applyPlan` + `planAllows` (transitions.ts). */
export function renderPlan(plan: TransitionPlan): ReturnType<UpdateBuilder['render']> {
  const b = new UpdateBuilder();
  const { condition, set } = plan;

  b.conditions.push(`attribute_exists(${b.path('pk')})`);
  if (condition.allowedFrom !== undefined) {
    if (condition.allowedFrom.length === 0) {
      throw new Error(`plan ${plan.event} allows no status`);
    }
    const statuses = condition.allowedFrom.map((status) => b.value(status)).join(', ');
    let allowed = `${b.path('status')} IN (${statuses})`;
    if (condition.alsoFromFailedReasons !== undefined && condition.alsoFromFailedReasons.length > 0) {
      const reasons = condition.alsoFromFailedReasons.map((reason) => b.value(reason)).join(', ');
      allowed = `(${allowed} OR (${b.path('status')} = ${b.value('failed')} AND ${b.path('failure.reason')} IN (${reasons})))`;
    }
    b.conditions.push(allowed);
  }
  if (condition.expectTaskId !== undefined) {
    b.conditions.push(`(attribute_not_exists(${b.path('task_id')}) OR ${b.path('task_id')} = ${b.value(condition.expectTaskId)})`);
  }
  if (condition.expectCheckAttempt !== undefined) {
    b.conditions.push(`${b.path('check_attempt')} = ${b.value(condition.expectCheckAttempt)}`);
  }

  b.set('updated_at', set.updatedAt);
  b.adds.push(`${b.path('version')} ${b.value(1)}`);
  if (set.status !== undefined) {
    b.set('status', set.status);
    // `open` follows the status: the sweep's sparse index holds open tasks only.
    if (isTerminal(set.status)) b.removes.push(b.path('open'));
    else b.set('open', OPEN_MARKER);
  }
  if (set.taskId !== undefined) b.set('task_id', set.taskId);
  if (set.tracks !== undefined) b.set('tracks', set.tracks.map((track) => track.raw));
  if (set.startTimeSeconds !== undefined) b.set('start_time', set.startTimeSeconds);
  if (set.stopTimeSeconds !== undefined) b.set('stop_time', set.stopTimeSeconds);
  if (set.failure === null) b.removes.push(b.path('failure'));
  else if (set.failure !== undefined) b.set('failure', failureItem(set.failure));
  if (set.lastUpstreamError !== undefined) b.set('last_upstream_error', upstreamErrorItem(set.lastUpstreamError));
  if (set.deadlineAtMs !== undefined) b.set('deadline_at', set.deadlineAtMs);
  if (set.nextCheckAtMs === null) b.removes.push(b.path('next_check_at'));
  else if (set.nextCheckAtMs !== undefined) b.set('next_check_at', set.nextCheckAtMs);
  if (set.checkAttempt !== undefined) b.set('check_attempt', set.checkAttempt);
  if (set.checkPhase !== undefined) b.set('check_phase', set.checkPhase);
  if (set.checkDelaySeconds !== undefined) b.set('check_delay_seconds', set.checkDelaySeconds);
  if (set.expiresAtSeconds !== undefined) b.set('expires_at', set.expiresAtSeconds);
  if (plan.timelineEntry !== undefined) {
    b.sets.push(`${b.path('timeline')} = list_append(${b.path('timeline')}, ${b.value([timelineItem(plan.timelineEntry)])})`);
  }
  if (plan.increments?.polls !== undefined) b.adds.push(`${b.path('polls')} ${b.value(plan.increments.polls)}`);
  if (plan.increments?.checkAttempt !== undefined) {
    b.adds.push(`${b.path('check_attempt')} ${b.value(plan.increments.checkAttempt)}`);
  }
  if (plan.callbackArrival !== undefined) {
    const base = `callbacks.${CALLBACK_ATTRIBUTE[plan.callbackArrival.kind]}`;
    const at = b.value(plan.callbackArrival.at);
    b.sets.push(`${b.path(`${base}.first_at`)} = if_not_exists(${b.path(`${base}.first_at`)}, ${at})`);
    b.sets.push(`${b.path(`${base}.last_at`)} = ${at}`);
    b.adds.push(`${b.path(`${base}.count`)} ${b.value(1)}`);
  }
  if (plan.rawCallback !== undefined) {
    b.set(`raw_callbacks.${CALLBACK_ATTRIBUTE[plan.rawCallback.kind]}`, truncateUtf8(plan.rawCallback.body, MAX_RAW_CALLBACK_BYTES));
  }
  return b.render();
}

/** What the cursor of a room listing encodes: the last item's keys. */
interface RoomCursor {
  pk: string;
  room_id: number;
  created_at: string;
}

function encodeCursor(cursor: RoomCursor): string {
  return Buffer.from(JSON.stringify([cursor.pk, cursor.room_id, cursor.created_at]), 'utf8').toString('base64url');
}

const ISO_MS_PATTERN = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** Checks a cursor before DynamoDB sees it: ours, for this room, well-formed. */
function decodeCursor(cursor: string, roomId: number): RoomCursor {
  const invalid = new ValidationError('cursor', 'not a cursor this API returned for this room');
  if (!/^[A-Za-z0-9_-]{1,1024}$/.test(cursor)) throw invalid;
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid;
  }
  if (!Array.isArray(decoded) || decoded.length !== 3) throw invalid;
  const [pk, room, createdAt] = decoded as unknown[];
  if (
    typeof pk !== 'string' ||
    !pk.startsWith(TASK_PK_PREFIX) ||
    pk.length > 256 ||
    room !== roomId ||
    typeof createdAt !== 'string' ||
    !ISO_MS_PATTERN.test(createdAt)
  ) {
    throw invalid;
  }
  return { pk, room_id: roomId, created_at: createdAt };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The item a failed condition returned (`ReturnValuesOnConditionCheckFailure: ALL_OLD`).
 * The document client does not translate the exception's `Item`, so it arrives as
 * AttributeValues.
 */
function oldItemOf(error: ConditionalCheckFailedException): Item | undefined {
  const item = error.Item as Record<string, AttributeValue> | undefined;
  return item === undefined ? undefined : unmarshall(item);
}

export class DynamoTaskStore implements TaskStore {
  readonly counters: StoreCounters = { writes: 0, writeItems: 0, reads: 0 };

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly options: DynamoTaskStoreOptions = {},
  ) {}

  private wrote(kind: 'create' | 'update', items: number): void {
    this.counters.writes += 1;
    this.counters.writeItems += items;
    this.options.onWrite?.(kind);
  }

  async create(task: Task, idempotency?: IdempotencyRecord): Promise<CreateResult> {
    const item = taskToItem(task);
    if (idempotency === undefined) {
      await this.client.send(
        new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }),
      );
      this.wrote('create', 1);
      return { created: true, task };
    }
    const idemKey = { pk: `${IDEMPOTENCY_PK_PREFIX}${idempotency.keyHash}` };
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.client.send(
          new TransactWriteCommand({
            TransactItems: [
              { Put: { TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' } },
              {
                Put: {
                  TableName: this.tableName,
                  Item: {
                    ...idemKey,
                    request_hash: idempotency.requestHash,
                    record_user_id: task.recordUserId,
                    created_at: task.createdAt,
                    expires_at: idempotency.expiresAtSeconds,
                  },
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
            ],
          }),
        );
        this.wrote('create', 2);
        return { created: true, task };
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const codes = (error.CancellationReasons ?? []).map((reason) => reason.Code);
        if (codes[1] === 'ConditionalCheckFailed') {
          return this.replay(idemKey, idempotency);
        }
        // Two requests with the same key at once: one transaction wins, the other is cancelled
        // with TransactionConflict; by the next try the winner's key is there to compare.
        if (codes.includes('TransactionConflict') && attempt < MAX_TRANSACTION_ATTEMPTS) {
          await sleep(TRANSACTION_RETRY_DELAY_MS * attempt);
          continue;
        }
        throw error;
      }
    }
  }

  /** The earlier request with this key: the same one → its task; another → IdempotencyConflict. */
  private async replay(idemKey: { pk: string }, idempotency: IdempotencyRecord): Promise<CreateResult> {
    this.counters.reads += 1;
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: idemKey, ConsistentRead: true }));
    if (Item === undefined) {
      throw new Error('idempotency record vanished after it cancelled the transaction');
    }
    if (Item.request_hash !== idempotency.requestHash) {
      throw new IdempotencyConflict();
    }
    const task = await this.get(Item.record_user_id as string);
    if (task === undefined) {
      throw new Error('idempotency record names a missing task');
    }
    return { created: false, task };
  }

  async get(recordUserId: string): Promise<Task | undefined> {
    this.counters.reads += 1;
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: taskKey(recordUserId), ConsistentRead: true }),
    );
    return Item === undefined ? undefined : itemToTask(Item);
  }

  async findByTaskId(taskId: string): Promise<Task | undefined> {
    this.counters.reads += 1;
    const { Items } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: INDEX_BY_TASK_ID,
        KeyConditionExpression: 'task_id = :taskId',
        ExpressionAttributeValues: { ':taskId': taskId },
        Limit: 1,
      }),
    );
    const pk = Items?.[0]?.pk;
    if (typeof pk !== 'string' || !pk.startsWith(TASK_PK_PREFIX)) {
      return undefined;
    }
    // The index is eventually consistent and keys-only: read the item itself, consistently.
    return this.get(pk.slice(TASK_PK_PREFIX.length));
  }

  async listByRoom(roomId: number, page: { limit: number; cursor?: string }): Promise<TaskPage> {
    const start = page.cursor === undefined ? undefined : decodeCursor(page.cursor, roomId);
    this.counters.reads += 1;
    // One more than asked: whether it comes back tells if there is a next page, so the last
    // page never carries a cursor to an empty one. The index is keys-only: these are keys.
    const { Items: keys = [] } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: INDEX_BY_ROOM,
        KeyConditionExpression: 'room_id = :roomId',
        ExpressionAttributeValues: { ':roomId': roomId },
        ScanIndexForward: false,
        Limit: page.limit + 1,
        ...(start === undefined ? {} : { ExclusiveStartKey: start }),
      }),
    );
    const pks = keys
      .slice(0, page.limit)
      .map((key) => key.pk)
      .filter((pk): pk is string => typeof pk === 'string' && pk.startsWith(TASK_PK_PREFIX));
    const items = await this.batchGet(pks);
    // In the index's order; a task gone since the Query (none are deleted today, but TTL may
    // expire one) is left out rather than failing the page.
    const tasks = pks.flatMap((pk) => {
      const item = items.get(pk);
      return item === undefined ? [] : [itemToTask(item)];
    });
    // The cursor is the last KEY of the page, so a vanished task does not shift the next page.
    const last = keys[page.limit - 1];
    if (keys.length > page.limit && last !== undefined) {
      return {
        tasks,
        nextCursor: encodeCursor({ pk: last.pk as string, room_id: roomId, created_at: last.created_at as string }),
      };
    }
    return { tasks };
  }

  /**
   * The task items of these keys, by `pk`, read strongly consistently (an index read could not
   * promise the state after the latest update). Keys DynamoDB leaves unprocessed are asked
   * again after a short backoff, up to MAX_BATCH_GET_ATTEMPTS requests per chunk.
   */
  private async batchGet(pks: readonly string[]): Promise<Map<string, Item>> {
    const found = new Map<string, Item>();
    for (let offset = 0; offset < pks.length; offset += MAX_BATCH_GET_KEYS) {
      let pending: Record<string, unknown>[] = [...new Set(pks.slice(offset, offset + MAX_BATCH_GET_KEYS))].map((pk) => ({ pk }));
      for (let attempt = 1; pending.length > 0; attempt += 1) {
        if (attempt > MAX_BATCH_GET_ATTEMPTS) {
          throw new Error(`BatchGetItem left ${pending.length} keys unprocessed after ${MAX_BATCH_GET_ATTEMPTS} attempts`);
        }
        if (attempt > 1) await sleep(BATCH_GET_RETRY_BASE_DELAY_MS * 2 ** (attempt - 2));
        this.counters.reads += 1;
        const { Responses, UnprocessedKeys } = await this.client.send(
          new BatchGetCommand({
            RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true } },
          }),
        );
        for (const item of Responses?.[this.tableName] ?? []) {
          if (typeof item.pk === 'string') found.set(item.pk, item);
        }
        pending = UnprocessedKeys?.[this.tableName]?.Keys ?? [];
      }
    }
    return found;
  }

  async apply(recordUserId: string, plan: TransitionPlan): Promise<ApplyResult> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: taskKey(recordUserId),
          ...renderPlan(plan),
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      this.wrote('update', 1);
      if (Attributes === undefined) {
        throw new Error('UpdateItem returned no attributes');
      }
      return { applied: true, task: itemToTask(Attributes) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      this.wrote('update', 1);
      const old = oldItemOf(error);
      return { applied: false, current: old === undefined ? undefined : itemToTask(old) };
    }
  }

  async listOverdue(beforeMs: number, limit: number): Promise<string[]> {
    const ids: string[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      this.counters.reads += 1;
      const { Items = [], LastEvaluatedKey } = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: INDEX_OPEN_BY_NEXT_CHECK,
          KeyConditionExpression: '#open = :open AND next_check_at < :before',
          ExpressionAttributeNames: { '#open': 'open' },
          ExpressionAttributeValues: { ':open': OPEN_MARKER, ':before': beforeMs },
          ScanIndexForward: true,
          Limit: limit - ids.length,
          ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
        }),
      );
      for (const item of Items) {
        const pk = item.pk;
        if (typeof pk === 'string' && pk.startsWith(TASK_PK_PREFIX)) ids.push(pk.slice(TASK_PK_PREFIX.length));
      }
      startKey = LastEvaluatedKey;
    } while (startKey !== undefined && ids.length < limit);
    return ids;
  }
}
