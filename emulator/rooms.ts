/**
 * The audio/video rooms the recorder joins: who is in them and when each camera and
 * screen share was published. Driven by the control API (`/_emulator/rooms/...`); the
 * recorded videos are cut from these stream segments (emulator/videos.ts).
 */

export type StreamKind = 'camera' | 'screen';

/** One published stream, in wall-clock ms; `endMs` null while it is still on. */
export interface StreamSegment {
  userId: string;
  kind: StreamKind;
  startMs: number;
  endMs: number | null;
}

interface RoomState {
  users: Set<string>;
  segments: StreamSegment[];
  /** When the room last went from some uplink to none; undefined if it never had any. */
  uplinkEndedAtMs: number | undefined;
}

/** A room as `GET /_emulator/rooms/{roomId}` shows it. */
export interface RoomSnapshot {
  roomId: number;
  users: { userId: string; camera: boolean; screen: boolean }[];
  segments: StreamSegment[];
  hasUplink: boolean;
}

export class UserNotInRoomError extends Error {
  override readonly name = 'UserNotInRoomError';
}

export class Rooms {
  private readonly rooms = new Map<number, RoomState>();

  /** Called after any change of who publishes in a room (the idle auto-stop watches it). */
  constructor(private readonly onUplinkChange: (roomId: number) => void) {}

  reset(): void {
    this.rooms.clear();
  }

  /** Joins (or, for a user already in, re-sets the streams of) a user. */
  join(roomId: number, userId: string, streams: { camera: boolean; screen: boolean }, nowMs: number): void {
    this.room(roomId).users.add(userId);
    this.setStream(roomId, userId, 'camera', streams.camera, nowMs);
    this.setStream(roomId, userId, 'screen', streams.screen, nowMs);
  }

  leave(roomId: number, userId: string, nowMs: number): void {
    const room = this.room(roomId);
    if (!room.users.has(userId)) throw new UserNotInRoomError(`user ${userId} is not in room ${roomId}`);
    this.setStream(roomId, userId, 'camera', false, nowMs);
    this.setStream(roomId, userId, 'screen', false, nowMs);
    room.users.delete(userId);
  }

  setStream(roomId: number, userId: string, kind: StreamKind, on: boolean, nowMs: number): void {
    const room = this.room(roomId);
    if (!room.users.has(userId)) throw new UserNotInRoomError(`user ${userId} is not in room ${roomId}`);
    const hadUplink = this.hasUplink(roomId);
    const open = room.segments.find((segment) => segment.userId === userId && segment.kind === kind && segment.endMs === null);
    if (on && !open) room.segments.push({ userId, kind, startMs: nowMs, endMs: null });
    if (!on && open) open.endMs = nowMs;
    const hasUplink = this.hasUplink(roomId);
    if (hadUplink && !hasUplink) room.uplinkEndedAtMs = nowMs;
    if (hadUplink !== hasUplink) this.onUplinkChange(roomId);
  }

  hasUplink(roomId: number): boolean {
    return this.rooms.get(roomId)?.segments.some((segment) => segment.endMs === null) ?? false;
  }

  uplinkEndedAtMs(roomId: number): number | undefined {
    return this.rooms.get(roomId)?.uplinkEndedAtMs;
  }

  segments(roomId: number): StreamSegment[] {
    return (this.rooms.get(roomId)?.segments ?? []).map((segment) => ({ ...segment }));
  }

  snapshot(roomId: number): RoomSnapshot {
    const room = this.rooms.get(roomId);
    const segments = this.segments(roomId);
    const isOn = (userId: string, kind: StreamKind) =>
      segments.some((segment) => segment.userId === userId && segment.kind === kind && segment.endMs === null);
    return {
      roomId,
      users: [...(room?.users ?? [])].map((userId) => ({ userId, camera: isOn(userId, 'camera'), screen: isOn(userId, 'screen') })),
      segments,
      hasUplink: this.hasUplink(roomId),
    };
  }

  roomIds(): number[] {
    return [...this.rooms.keys()];
  }

  private room(roomId: number): RoomState {
    let room = this.rooms.get(roomId);
    if (!room) {
      room = { users: new Set(), segments: [], uplinkEndedAtMs: undefined };
      this.rooms.set(roomId, room);
    }
    return room;
  }
}
