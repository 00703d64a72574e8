/**
 * Field checks of the four endpoints' bodies (vendor document 4.1 to 4.4). Every refusal
 * is a 20003 whose `error_msg` names the field, e.g. `room_id: expected int`.
 */
import { inflateSync } from 'node:zlib';
import { badField } from './errors';

const RECORD_USER_PREFIX = 'tic_record_user_';
const DEFAULT_WHITEBOARD = { width: 1280, height: 960 } as const;

export interface StartInput {
  roomId: number;
  groupId: string;
  userId: string;
  userSig: string;
  whiteboard: { width: number; height: number };
}

type Body = Record<string, unknown>;

function positiveInt(body: Body, field: string, path = field): number {
  const value = body[field];
  if (value === undefined) throw badField(path, 'missing');
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw badField(path, 'expected int');
  if (value <= 0) throw badField(path, 'expected a positive int');
  return value;
}

function requiredString(body: Body, field: string): string {
  const value = body[field];
  if (value === undefined) throw badField(field, 'missing');
  if (typeof value !== 'string') throw badField(field, 'expected string');
  return value;
}

export function parseStart(body: Body): StartInput {
  const roomId = positiveInt(body, 'room_id');
  const rawGroupId = body['group_id'];
  if (rawGroupId !== undefined && typeof rawGroupId !== 'string') throw badField('group_id', 'expected string');
  const groupId = rawGroupId === undefined || rawGroupId === '' ? String(roomId) : rawGroupId;
  const userId = requiredString(body, 'user_id');
  const prefix = `${RECORD_USER_PREFIX}${roomId}_`;
  if (!userId.startsWith(prefix) || userId.length === prefix.length) {
    throw badField('user_id', `expected ${prefix}{suffix} (vendor document 2.2)`);
  }
  const userSig = requiredString(body, 'user_sig');
  if (userSig === '') throw badField('user_sig', 'expected a non-empty string');
  return { roomId, groupId, userId, userSig, whiteboard: parseWhiteboard(body['whiteboard']) };
}

function parseWhiteboard(raw: unknown): { width: number; height: number } {
  if (raw === undefined) return { ...DEFAULT_WHITEBOARD };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw badField('whiteboard', 'expected object');
  const whiteboard = raw as Body;
  return {
    width: whiteboard['width'] === undefined ? DEFAULT_WHITEBOARD.width : positiveInt(whiteboard, 'width', 'whiteboard.width'),
    height: whiteboard['height'] === undefined ? DEFAULT_WHITEBOARD.height : positiveInt(whiteboard, 'height', 'whiteboard.height'),
  };
}

export function parseTaskId(body: Body): string {
  const taskId = requiredString(body, 'task_id');
  if (taskId === '') throw badField('task_id', 'expected a non-empty string');
  return taskId;
}

/** The callback URL: '' removes it; anything else must be an absolute http(s) URL. */
export function parseCallbackUrl(body: Body): string {
  const url = requiredString(body, 'callback');
  if (url === '') return url;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw badField('callback', 'expected an http(s) URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw badField('callback', 'expected an http(s) URL');
  return url;
}

/**
 * With `--check-user-sig`: decodes a TLS sig v2 (base64 with `*-_` for `+/=`, zlib, JSON)
 * and refuses one made for another user or app, or already expired. The HMAC is not
 * checked: the emulator does not know the app's secret key.
 */
export function checkUserSig(userSig: string, userId: string, sdkappid: number, nowSeconds: number): void {
  let fields: Body;
  try {
    const base64 = userSig.replaceAll('*', '+').replaceAll('-', '/').replaceAll('_', '=');
    fields = JSON.parse(inflateSync(Buffer.from(base64, 'base64')).toString('utf8')) as Body;
  } catch {
    throw badField('user_sig', 'not a TLS sig v2');
  }
  if (fields['TLS.identifier'] !== userId) throw badField('user_sig', 'made for another user_id');
  if (Number(fields['TLS.sdkappid']) !== sdkappid) throw badField('user_sig', 'made for another sdkappid');
  const expiresAtSeconds = Number(fields['TLS.time']) + Number(fields['TLS.expire']);
  if (!Number.isFinite(expiresAtSeconds) || expiresAtSeconds < nowSeconds) throw badField('user_sig', 'expired');
}
