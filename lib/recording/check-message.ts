/**
 * The reconciler's check message: "look at this task again", as it travels through the
 * check queue. Version 1: `{ "v": 1, "record_user_id": "...", "attempt": n, "phase": "start" | "stop" }`.
 */
import * as z from 'zod/mini';
import '../tic/schemas'; // loads zod/mini's English messages once
import type { CheckPhase } from './task';

export interface CheckMessage {
  v: 1;
  record_user_id: string;
  /** The task's check attempt when the message was sent; any other attempt makes it stale. */
  attempt: number;
  phase: CheckPhase;
}

/** Longest record user id we accept in a message: `tic_record_user_` + int32 room id + suffix, with room to spare. */
const MAX_RECORD_USER_ID_LENGTH = 128;

const checkMessageSchema = z.object({
  v: z.literal(1),
  record_user_id: z.string().check(z.minLength(1), z.maxLength(MAX_RECORD_USER_ID_LENGTH)),
  attempt: z.int().check(z.positive()),
  phase: z.enum(['start', 'stop']),
});

export type ParsedCheckMessage = { ok: true; message: CheckMessage } | { ok: false; reason: string };

/**
 * Reads a message body. A body that does not parse is a poison message: no later delivery
 * will parse either, so the worker fails it and the queue's redrive moves it to the DLQ,
 * whose alarm makes it seen (the task's own chain, or the sweep, still looks after the task).
 */
export function parseCheckMessage(body: string): ParsedCheckMessage {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'body is not JSON' };
  }
  const parsed = checkMessageSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue === undefined || issue.path.length === 0 ? '(root)' : issue.path.map(String).join('.');
    return { ok: false, reason: `${path}: ${issue?.message ?? 'invalid'}` };
  }
  return { ok: true, message: parsed.data };
}

/** The message body as sent. */
export function serializeCheckMessage(message: CheckMessage): string {
  return JSON.stringify(message);
}
