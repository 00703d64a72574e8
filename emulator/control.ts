/**
 * The control API under `/_emulator/`: unsigned JSON for tests and people to drive rooms,
 * read tasks, counters and callback attempts, switch faults, reset, and fetch videos.
 * Routes are listed in emulator/README.md "Control API".
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { ApiError, Code } from './errors';
import { faultsPatchSchema } from './faults';
import { parseJsonObject, readBody, sendJson } from './http';
import { UserNotInRoomError } from './rooms';
import { sampleMp4 } from './sample-video';
import type { EmulatorParts } from './server';

const joinSchema = z.strictObject({ camera: z.boolean().optional(), screen: z.boolean().optional() });
const switchSchema = z.strictObject({ on: z.boolean() });

const ROOM_USER_ACTION = /^\/rooms\/([^/]+)\/users\/([^/]+)\/(join|leave|camera|screen)$/;
const ROOM = /^\/rooms\/([^/]+)$/;
const TASK = /^\/tasks\/([^/]+)$/;
const VIDEO = /^\/videos\/([0-9]+)\.mp4$/;

const notFound = () => new ApiError(Code.BAD_REQUEST, 'no such control route', 404);
const wrongMethod = () => new ApiError(Code.BAD_REQUEST, 'method not allowed', 405);
const badControl = (message: string) => new ApiError(Code.BAD_REQUEST, message, 400);

export async function handleControl(parts: EmulatorParts, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  const { service, stats, faults, callbacks } = parts;
  const method = req.method ?? 'GET';
  const expect = (allowed: string) => {
    if (method !== allowed) throw wrongMethod();
  };

  if (path === '/stats') {
    expect('GET');
    return sendJson(res, 200, stats());
  }
  if (path === '/tasks') {
    expect('GET');
    return sendJson(res, 200, service.snapshots());
  }
  if (path === '/rooms') {
    expect('GET');
    return sendJson(res, 200, service.rooms.roomIds().map((roomId) => service.rooms.snapshot(roomId)));
  }
  if (path === '/callbacks') {
    expect('GET');
    const url = callbacks.callbackUrl();
    // Only the origin: the path or query may carry the receiver's secret token.
    return sendJson(res, 200, { callbackOrigin: url === undefined ? null : new URL(url).origin, attempts: callbacks.log() });
  }
  if (path === '/reset') {
    expect('POST');
    parts.reset();
    return sendJson(res, 200, { ok: true });
  }
  if (path === '/faults') {
    if (method === 'DELETE') faults.clear();
    else if (method === 'POST') {
      const patch = faultsPatchSchema.safeParse(await readControlBody(parts, req));
      if (!patch.success) throw badControl(describeIssues(patch.error));
      faults.apply(patch.data);
    } else expect('GET');
    return sendJson(res, 200, faults.current());
  }

  const task = TASK.exec(path);
  if (task) {
    expect('GET');
    const snapshot = service.snapshot(decodeURIComponent(task[1]!));
    if (!snapshot) throw new ApiError(Code.DATA_READ_FAILED, 'no such task', 404);
    return sendJson(res, 200, snapshot);
  }

  const video = VIDEO.exec(path);
  if (video) {
    if (method !== 'GET' && method !== 'HEAD') throw wrongMethod();
    if (!service.videos.get(video[1]!)) throw notFound();
    const bytes = sampleMp4();
    res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': bytes.length });
    res.end(method === 'HEAD' ? undefined : bytes);
    return;
  }

  const room = ROOM.exec(path);
  if (room) {
    expect('GET');
    return sendJson(res, 200, service.rooms.snapshot(roomIdOf(room[1]!)));
  }

  const action = ROOM_USER_ACTION.exec(path);
  if (action) {
    expect('POST');
    const roomId = roomIdOf(action[1]!);
    const userId = decodeURIComponent(action[2]!);
    const body = await readControlBody(parts, req);
    const nowMs = Date.now();
    try {
      if (action[3] === 'join') {
        const streams = joinSchema.safeParse(body);
        if (!streams.success) throw badControl(describeIssues(streams.error));
        service.rooms.join(roomId, userId, { camera: streams.data.camera ?? true, screen: streams.data.screen ?? false }, nowMs);
      } else if (action[3] === 'leave') {
        service.rooms.leave(roomId, userId, nowMs);
      } else {
        const change = switchSchema.safeParse(body);
        if (!change.success) throw badControl(describeIssues(change.error));
        service.rooms.setStream(roomId, userId, action[3] === 'camera' ? 'camera' : 'screen', change.data.on, nowMs);
      }
    } catch (error) {
      if (error instanceof UserNotInRoomError) throw new ApiError(Code.BAD_REQUEST, error.message, 409);
      throw error;
    }
    return sendJson(res, 200, service.rooms.snapshot(roomId));
  }

  throw notFound();
}

function roomIdOf(raw: string): number {
  if (!/^[0-9]+$/.test(raw) || Number(raw) <= 0 || !Number.isSafeInteger(Number(raw))) {
    throw badControl('roomId: expected a positive int');
  }
  return Number(raw);
}

/** An empty body reads as `{}`, so `curl -X POST .../join` works. */
async function readControlBody(parts: EmulatorParts, req: IncomingMessage): Promise<Record<string, unknown>> {
  const text = await readBody(req, parts.options.maxBodyBytes);
  if (text.trim() === '') return {};
  try {
    return parseJsonObject(text);
  } catch (error) {
    throw error instanceof ApiError ? badControl(error.message) : error;
  }
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; ');
}
