/**
 * The interfaces the recording domain speaks through. Adapters in lib/adapters implement
 * them (DynamoDB, SQS); the vendor is `TicApi` (lib/tic/api.ts).
 */
import type { CheckMessage } from './check-message';
import type { Task } from './task';
import type { TransitionPlan } from './transitions';

/** The caller's idempotency key, hashed (see service.ts), and the hash of its request. */
export interface IdempotencyRecord {
  keyHash: string;
  requestHash: string;
  /** When the key may be forgotten (epoch seconds). */
  expiresAtSeconds: number;
}

export type CreateResult =
  | { created: true; task: Task }
  /** The same key and the same request were seen before: the task they made. */
  | { created: false; task: Task };

/** Result of writing a plan: the task after it, or the task as it was when the condition failed. */
export type ApplyResult =
  | { applied: true; task: Task }
  /** `current` is undefined when there is no such task. */
  | { applied: false; current: Task | undefined };

export interface TaskPage {
  /** Newest first. */
  tasks: Task[];
  /** Opaque; absent on the last page. */
  nextCursor?: string;
}

/** Where tasks live. Every write is conditional; a failed condition is an answer, not an error. */
export interface TaskStore {
  /**
   * Stores a new task; with `idempotency`, atomically with the key's record.
   * Throws IdempotencyConflict when the key was used with another request.
   */
  create(task: Task, idempotency?: IdempotencyRecord): Promise<CreateResult>;
  /** The task, read consistently, or undefined. */
  get(recordUserId: string): Promise<Task | undefined>;
  /** The task with this vendor task id, or undefined. */
  findByTaskId(taskId: string): Promise<Task | undefined>;
  /** A room's tasks, newest first. Throws ValidationError('cursor') for a cursor it did not make. */
  listByRoom(roomId: number, page: { limit: number; cursor?: string }): Promise<TaskPage>;
  /**
   * Writes `plan` atomically if its condition holds (see transitions.ts `planAllows` /
   * `applyPlan` for the meaning that every store must match).
   */
  apply(recordUserId: string, plan: TransitionPlan): Promise<ApplyResult>;
  /** Record user ids of open tasks whose next check was due before `beforeMs`, oldest first. */
  listOverdue(beforeMs: number, limit: number): Promise<string[]>;
}

/** Where the reconciler's check messages go. */
export interface CheckQueue {
  /** Delivers `message` after `delaySeconds` (the adapter clamps to what the queue allows). */
  send(message: CheckMessage, delaySeconds: number): Promise<void>;
}

export interface Clock {
  nowMs(): number;
}

/** The operational signals the domain raises; the wiring turns them into metrics and alarms. */
export interface Metrics {
  /** A task failed because the vendor never reported progress before the deadline (alarm on it). */
  taskFailedByDeadline(task: Task): void;
  /** The sweep found open tasks whose check chain was lost and resumed them. */
  checksResumedBySweep?(count: number): void;
}

/** Structured logging; the Powertools Logger fits. Never given a secret. */
export interface Logger {
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}

export const systemClock: Clock = { nowMs: () => Date.now() };

export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };
