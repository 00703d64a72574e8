/**
 * Typed errors of the recording domain. Each has a stable `name`; functions/ maps them to
 * HTTP statuses in one place. None carries a secret (no UserSig, no TicKey, no sign).
 */
import type { TicOperation } from '../tic/errors';

/** A request field is missing or malformed (→ 400). */
export class ValidationError extends Error {
  override readonly name = 'ValidationError';
  constructor(
    /** The offending field, e.g. `room_id`, `cursor`. */
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** No task with this task id or record user id (→ 404). */
export class TaskNotFound extends Error {
  override readonly name = 'TaskNotFound';
  constructor(readonly id: string) {
    super(`no recording task ${id}`);
  }
}

/** The idempotency key was used before with a different request body (→ 409). */
export class IdempotencyConflict extends Error {
  override readonly name = 'IdempotencyConflict';
  constructor() {
    super('this Idempotency-Key was used with a different request');
  }
}

/**
 * `stop` of a task whose `start` went unanswered: there is no vendor task id to stop yet
 * (→ 409; the caller may try again once the task is `prepared` or `recording`).
 */
export class TaskNotStartedYet extends Error {
  override readonly name = 'TaskNotStartedYet';
  constructor(readonly recordUserId: string) {
    super(`recording ${recordUserId} has no vendor task id yet: its start is unconfirmed`);
  }
}

/**
 * The vendor refused a request or did not answer it (→ 502 with code, message, random).
 * `code` is absent when there was no answer (timeout, network failure, unreadable answer).
 */
export class UpstreamRefused extends Error {
  override readonly name = 'UpstreamRefused';
  readonly operation: TicOperation;
  readonly code: number | undefined;
  readonly upstreamMessage: string;
  readonly random: number;

  constructor(args: { operation: TicOperation; code: number | undefined; upstreamMessage: string; random: number }) {
    const what = args.code === undefined ? 'no answer' : `error_code ${args.code}`;
    super(`TIC ${args.operation} failed: ${what}: ${args.upstreamMessage} (random ${args.random})`);
    this.operation = args.operation;
    this.code = args.code;
    this.upstreamMessage = args.upstreamMessage;
    this.random = args.random;
  }
}
