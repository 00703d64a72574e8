/**
 * The one way an event changes a task: write its plan; if the condition fails, let the
 * state machine judge the task as it was (`onRejected`) and write its follow-up, if any.
 *
 * A fresh event costs one conditional write and no read; a duplicate or late one costs two
 * writes (the second only counts the arrival).
 */
import type { TaskStore } from './ports';
import type { Task } from './task';
import { onRejected, planAllows, planFor, type RecordingEvent, type RejectedOutcome, type TransitionContext } from './transitions';

export type EventOutcome = 'applied' | RejectedOutcome;

export type EventResult =
  | { outcome: 'unknown_task'; detail: string }
  | { outcome: Exclude<EventOutcome, 'unknown_task'>; task: Task; detail?: string };

/**
 * How many times a plan is written again when the store reports a failed condition that the
 * task it returned would have met (only possible when the store's view changed in between).
 */
const MAX_WRITE_ROUNDS = 3;

/** Applies `event` to the task `recordUserId` through `store`. Throws only what the store throws. */
export async function applyEvent(
  store: TaskStore,
  recordUserId: string,
  event: RecordingEvent,
  ctx: TransitionContext,
): Promise<EventResult> {
  const plan = planFor(event, ctx);
  for (let round = 0; round < MAX_WRITE_ROUNDS; round += 1) {
    const first = await store.apply(recordUserId, plan);
    if (first.applied) {
      return { outcome: 'applied', task: first.task };
    }
    const { current } = first;
    if (current !== undefined && planAllows(current, plan)) {
      continue;
    }
    const rejection = onRejected(current, event, ctx);
    if (rejection.outcome === 'unknown_task' || current === undefined) {
      return { outcome: 'unknown_task', detail: rejection.detail };
    }
    if (rejection.followUp === undefined) {
      return { outcome: rejection.outcome, task: current, detail: rejection.detail };
    }
    const second = await store.apply(recordUserId, rejection.followUp);
    if (second.applied) {
      return { outcome: rejection.outcome, task: second.task, detail: rejection.detail };
    }
    // A follow-up has no condition but the task's existence: it can only fail if the task was deleted.
    return { outcome: 'unknown_task', detail: 'task disappeared' };
  }
  throw new Error(`plan ${plan.event} for ${recordUserId} kept failing a condition its task meets`);
}
