/**
 * An in-memory TaskStore, FOR DOMAIN UNIT TESTS ONLY: it is not durable, not shared between
 * processes, and its cursors are plain offsets. It applies plans with the domain's own
 * `planAllows` / `applyPlan`, so it defines the behaviour that the DynamoDB store
 * (dynamo-task-store.ts) must match; test/adapters checks that they do.
 */
import { IdempotencyConflict, ValidationError } from '../recording/errors';
import type { ApplyResult, CreateResult, IdempotencyRecord, TaskPage, TaskStore } from '../recording/ports';
import { isTerminal, type Task } from '../recording/task';
import { applyPlan, planAllows, type TransitionPlan } from '../recording/transitions';

interface StoredIdempotency {
  requestHash: string;
  recordUserId: string;
}

/** Counts of calls, for budget tests. */
export interface StoreCounters {
  writes: number;
  reads: number;
}

export class MemoryTaskStore implements TaskStore {
  private readonly tasks = new Map<string, Task>();
  private readonly keys = new Map<string, StoredIdempotency>();
  readonly counters: StoreCounters = { writes: 0, reads: 0 };

  async create(task: Task, idempotency?: IdempotencyRecord): Promise<CreateResult> {
    if (idempotency !== undefined) {
      const seen = this.keys.get(idempotency.keyHash);
      if (seen !== undefined) {
        this.counters.reads += 1;
        if (seen.requestHash !== idempotency.requestHash) {
          throw new IdempotencyConflict();
        }
        const existing = this.tasks.get(seen.recordUserId);
        if (existing === undefined) {
          throw new Error('idempotency record names a missing task');
        }
        return { created: false, task: structuredClone(existing) };
      }
    }
    if (this.tasks.has(task.recordUserId)) {
      throw new Error(`task ${task.recordUserId} exists already`);
    }
    this.counters.writes += 1;
    this.tasks.set(task.recordUserId, structuredClone(task));
    if (idempotency !== undefined) {
      this.keys.set(idempotency.keyHash, { requestHash: idempotency.requestHash, recordUserId: task.recordUserId });
    }
    return { created: true, task: structuredClone(task) };
  }

  async get(recordUserId: string): Promise<Task | undefined> {
    this.counters.reads += 1;
    const task = this.tasks.get(recordUserId);
    return task === undefined ? undefined : structuredClone(task);
  }

  async findByTaskId(taskId: string): Promise<Task | undefined> {
    this.counters.reads += 1;
    for (const task of this.tasks.values()) {
      if (task.taskId === taskId) {
        return structuredClone(task);
      }
    }
    return undefined;
  }

  async listByRoom(roomId: number, page: { limit: number; cursor?: string }): Promise<TaskPage> {
    this.counters.reads += 1;
    let offset = 0;
    if (page.cursor !== undefined) {
      offset = Number(page.cursor);
      if (!/^[0-9]+$/.test(page.cursor) || !Number.isSafeInteger(offset)) {
        throw new ValidationError('cursor', 'not a cursor this API returned');
      }
    }
    const all = [...this.tasks.values()]
      .filter((task) => task.roomId === roomId)
      .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
    const tasks = all.slice(offset, offset + page.limit).map((task) => structuredClone(task));
    const next = offset + page.limit;
    return next < all.length ? { tasks, nextCursor: String(next) } : { tasks };
  }

  async apply(recordUserId: string, plan: TransitionPlan): Promise<ApplyResult> {
    this.counters.writes += 1;
    const current = this.tasks.get(recordUserId);
    if (current === undefined || !planAllows(current, plan)) {
      return { applied: false, current: current === undefined ? undefined : structuredClone(current) };
    }
    const next = applyPlan(current, plan);
    this.tasks.set(recordUserId, next);
    return { applied: true, task: structuredClone(next) };
  }

  async listOverdue(beforeMs: number, limit: number): Promise<string[]> {
    this.counters.reads += 1;
    return [...this.tasks.values()]
      .filter((task) => !isTerminal(task.status) && task.check.nextAtMs !== undefined && task.check.nextAtMs < beforeMs)
      .sort((a, b) => (a.check.nextAtMs ?? 0) - (b.check.nextAtMs ?? 0))
      .slice(0, limit)
      .map((task) => task.recordUserId);
  }

  /** Test helper: every stored task. */
  all(): Task[] {
    return [...this.tasks.values()].map((task) => structuredClone(task));
  }
}
