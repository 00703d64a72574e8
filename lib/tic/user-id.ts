/**
 * The recording identity's user id: `tic_record_user_{roomId}_{suffix}` (vendor document
 * 2.2, CONTRACT.md "Flow" item 2).
 *
 * Rules we chose, and why:
 * - Room ids are positive int32 (rooms are int, CONTRACT.md item 10), written without
 *   leading zeros so that the vendor's prefix check `tic_record_user_{roomid}` matches.
 * - A TRTC user id is at most 32 bytes (Tencent's UserSig documentation, and the comment of
 *   `genUserSig` in tls-sig-api-v2), so a made id never exceeds 32 characters. With the
 *   largest room id (10 digits) that leaves 5 characters of suffix.
 * - The default suffix is random `[A-Za-z0-9]`, as long as fits, at most 12 characters.
 *   A reused id only hurts while the earlier recorder is still in the room (it gets kicked
 *   out), i.e. between the few recordings of one room that overlap; at the worst case of 5
 *   characters two of them collide with probability 1 / 62^5 (about 1e-9).
 * - An explicit suffix may also use `_` and `-` (the characters a TRTC user id allows).
 * - Parsing is more lenient than making (suffix up to 64 characters, no total-length check):
 *   it recognises recorders, including ones made by other tools, in answers and callbacks.
 */
import { randomInt } from 'node:crypto';

export const RECORD_USER_ID_PREFIX = 'tic_record_user_';

/** A TRTC user id is at most 32 bytes. */
export const MAX_TRTC_USER_ID_LENGTH = 32;

/** Longest default suffix; shorter when the room id is long. */
export const MAX_DEFAULT_SUFFIX_LENGTH = 12;

/** Longest suffix accepted when parsing. */
export const MAX_PARSED_SUFFIX_LENGTH = 64;

const MAX_ROOM_ID = 2_147_483_647;
const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const SUFFIX_PATTERN = /^[A-Za-z0-9_-]+$/;
const RECORD_USER_ID_PATTERN = new RegExp(
  `^${RECORD_USER_ID_PREFIX}([1-9][0-9]{0,9})_([A-Za-z0-9_-]{1,${MAX_PARSED_SUFFIX_LENGTH}})$`,
);

/** Whether a room id is one the vendor can record: a positive int32. */
export function isValidRoomId(roomId: number): boolean {
  return Number.isInteger(roomId) && roomId >= 1 && roomId <= MAX_ROOM_ID;
}

/**
 * A recording user id for a room. Without `suffix`, a new random one: call it once per
 * recording, never reuse the result for another start.
 *
 * @throws RangeError when the room id is not a positive int32, or the suffix is empty, has
 *   characters outside `[A-Za-z0-9_-]`, or makes the id longer than 32 characters.
 */
export function makeRecordUserId(roomId: number, suffix?: string | number): string {
  if (!isValidRoomId(roomId)) {
    throw new RangeError('roomId must be a positive int32');
  }
  const head = `${RECORD_USER_ID_PREFIX}${roomId}_`;
  const room = MAX_TRTC_USER_ID_LENGTH - head.length;
  const tail = suffix === undefined ? randomSuffix(Math.min(room, MAX_DEFAULT_SUFFIX_LENGTH)) : String(suffix);
  if (tail.length === 0 || !SUFFIX_PATTERN.test(tail)) {
    throw new RangeError('record user id suffix must be non-empty [A-Za-z0-9_-]');
  }
  if (tail.length > room) {
    throw new RangeError(`record user id would exceed ${MAX_TRTC_USER_ID_LENGTH} characters`);
  }
  return head + tail;
}

/** The room id and suffix of a recording user id, or undefined when it is not one. */
export function parseRecordUserId(userId: string): { roomId: number; suffix: string } | undefined {
  const match = RECORD_USER_ID_PATTERN.exec(userId);
  if (match === null) return undefined;
  const roomId = Number(match[1]);
  const suffix = match[2];
  if (suffix === undefined || !isValidRoomId(roomId)) return undefined;
  return { roomId, suffix };
}

/** Whether `userId` is a recording user id of that room. */
export function isRecordUserIdFor(userId: string, roomId: number): boolean {
  return parseRecordUserId(userId)?.roomId === roomId;
}

function randomSuffix(length: number): string {
  let out = '';
  for (let i = 0; i < length; i += 1) {
    out += SUFFIX_ALPHABET[randomInt(SUFFIX_ALPHABET.length)];
  }
  return out;
}
