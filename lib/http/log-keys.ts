/** Puts a task's identity on every later log line of the invocation. */
import { logger } from '../logger';
import type { Task } from '../recording/task';

export function logTask(task: Pick<Task, 'recordUserId' | 'taskId' | 'roomId'>): void {
  logger.appendKeys({ record_user_id: task.recordUserId, task_id: task.taskId, room_id: task.roomId });
}
