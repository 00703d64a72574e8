/**
 * What our API accepts, validated. A failure is a ValidationError naming the field.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import '../tic/schemas'; // loads zod/mini's English messages once
import { isValidRoomId } from '../tic/user-id';
import { ValidationError } from './errors';
import type { WhiteboardSize } from './task';

/** A TRTC/IM group id is at most 64 characters (vendor document 4.2: the whiteboard's IM group). */
export const MAX_GROUP_ID_LENGTH = 64;
/** Whiteboard sides, px: up to 8K. */
export const MIN_WHITEBOARD_SIDE_PX = 1;
export const MAX_WHITEBOARD_SIDE_PX = 7680;
/** A UserSig is a few hundred characters; anything far longer is not one. */
export const MAX_USER_SIG_LENGTH = 4096;
/** Idempotency keys: 1..255 printable ASCII characters (a UUID fits). */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
/** Page size of room listings. */
export const DEFAULT_PAGE_LIMIT = 20;
export const MAX_PAGE_LIMIT = 100;
/** Longest id our API looks up (record user ids are ≤ 32, vendor task ids ~20). */
export const MAX_TASK_ID_LENGTH = 128;

// zod/mini, not classic zod: the classic build is ~450 KB minified, past a Lambda's budget (lib/tic/schemas.ts).
const roomIdSchema = z.int().check(z.refine(isValidRoomId, 'must be a positive int32'));
const whiteboardSideSchema = z.int().check(z.minimum(MIN_WHITEBOARD_SIDE_PX), z.maximum(MAX_WHITEBOARD_SIDE_PX));

const startBodySchema = z.strictObject({
  room_id: roomIdSchema,
  group_id: z.optional(z.string().check(z.minLength(1), z.maxLength(MAX_GROUP_ID_LENGTH))),
  whiteboard: z.optional(z.strictObject({ width: whiteboardSideSchema, height: whiteboardSideSchema })),
  user_sig: z.optional(z.string().check(z.minLength(1), z.maxLength(MAX_USER_SIG_LENGTH))),
});

/** The body of `POST /recordings`, validated. */
export interface StartCommand {
  roomId: number;
  groupId?: string;
  whiteboard?: WhiteboardSize;
  /** The caller's own UserSig for the recorder; never stored. */
  userSig?: string;
}

function firstIssue(error: z.core.$ZodError): ValidationError {
  const issue = error.issues[0];
  const path = issue?.path.map(String) ?? [];
  // An unknown key is named as the field itself, so that the caller sees which one to remove.
  const unknownKey = issue?.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
  if (unknownKey !== undefined) path.push(unknownKey);
  const field = path.length === 0 ? 'body' : path.join('.');
  return new ValidationError(field, issue?.message ?? 'invalid');
}

/** Validates the body of `POST /recordings`. Throws ValidationError. */
export function parseStartBody(body: unknown): StartCommand {
  const parsed = startBodySchema.safeParse(body);
  if (!parsed.success) {
    throw firstIssue(parsed.error);
  }
  const { room_id, group_id, whiteboard, user_sig } = parsed.data;
  const command: StartCommand = { roomId: room_id };
  if (group_id !== undefined) command.groupId = group_id;
  if (whiteboard !== undefined) command.whiteboard = whiteboard;
  if (user_sig !== undefined) command.userSig = user_sig;
  return command;
}

/** Validates an `Idempotency-Key` header value. Throws ValidationError. */
export function parseIdempotencyKey(key: string): string {
  if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH || !/^[\x21-\x7e]+$/.test(key)) {
    throw new ValidationError('Idempotency-Key', `must be 1..${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters`);
  }
  return key;
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * Hash of (caller, key): keys are per caller, and the key itself is not stored. A NUL
 * separates the two so that no (caller, key) pair can be spelled as another.
 */
export function idempotencyKeyHash(callerId: string, key: string): string {
  return sha256Hex(`${callerId}\u0000${key}`);
}

/**
 * Hash of a start request's meaning, to tell "the same request again" from "another request,
 * same key". A `user_sig` is left out: a client that retries with a freshly made UserSig is
 * asking for the same recording, and refusing it (409) would push it to retry without the key
 * and start a second recorder.
 */
export function startRequestHash(command: StartCommand): string {
  return sha256Hex(
    JSON.stringify([command.roomId, command.groupId ?? null, command.whiteboard?.width ?? null, command.whiteboard?.height ?? null]),
  );
}

/** Parses a room id from a path parameter or a number. Throws ValidationError('room_id'). */
export function parseRoomId(value: unknown): number {
  const roomId = typeof value === 'string' && /^[0-9]{1,10}$/.test(value) ? Number(value) : value;
  if (typeof roomId !== 'number' || !isValidRoomId(roomId)) {
    throw new ValidationError('room_id', 'must be a positive int32');
  }
  return roomId;
}

/** Parses a page size (absent: the default). Throws ValidationError('limit'). */
export function parsePageLimit(value: unknown): number {
  if (value === undefined || value === null || value === '') {
    return DEFAULT_PAGE_LIMIT;
  }
  const limit = typeof value === 'string' && /^[0-9]{1,4}$/.test(value) ? Number(value) : value;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw new ValidationError('limit', `must be an integer 1..${MAX_PAGE_LIMIT}`);
  }
  return limit;
}
