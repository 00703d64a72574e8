/**
 * A local emulator of the TIC real-time recording service, for development and CI.
 *
 * ```ts
 * const emulator = await startEmulator({ startDelayMs: 50, stopDelayMs: 50 });
 * // ... point the client at emulator.url ...
 * await emulator.close();
 * ```
 *
 * It shares no code with lib/tic (only wire types), so that it can catch the client's bugs.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CallbackDispatcher, type CallbackAttempt } from './callbacks';
import { FaultBoard, type Faults, type FaultsPatch } from './faults';
import { resolveOptions, type EmulatorOptions, type ResolvedOptions } from './options';
import type { RoomSnapshot } from './rooms';
import { Scheduler } from './scheduler';
import { createHandler } from './server';
import { RecordingService, type TaskSnapshot } from './service';
import { emptyStats, type EmulatorStats } from './stats';

export type { EmulatorOptions } from './options';
export type { EmulatorStats } from './stats';
export type { TaskSnapshot, TaskState, EndReason } from './service';
export type { RoomSnapshot, StreamSegment, StreamKind } from './rooms';
export type { CallbackAttempt } from './callbacks';
export type { Faults, FaultsPatch } from './faults';
export { KICKED_OUT } from './service';
export { DOC_EXAMPLE_SDKAPPID, DOC_EXAMPLE_TIC_KEY } from './options';

export interface RunningEmulator {
  /** Base URL, e.g. `http://127.0.0.1:4100` (no trailing slash). */
  url: string;
  port: number;
  /** The settings in force, defaults filled in. */
  options: Readonly<ResolvedOptions>;
  /** Stops listening, drops every open (and hung) connection, cancels every timer. */
  close(): Promise<void>;
  stats(): EmulatorStats;
  tasks(): TaskSnapshot[];
  task(taskId: string): TaskSnapshot | undefined;
  room(roomId: number): RoomSnapshot;
  /** Every callback HTTP attempt so far, in order. */
  callbackAttempts(): CallbackAttempt[];
  faults(): Faults;
  setFaults(patch: FaultsPatch): void;
  clearFaults(): void;
  /** Forgets tasks, rooms, videos, callback URL, faults and counters; cancels pending timers and callbacks. */
  reset(): void;
  join(roomId: number, userId: string, streams?: { camera?: boolean; screen?: boolean }): void;
  leave(roomId: number, userId: string): void;
  setCamera(roomId: number, userId: string, on: boolean): void;
  setScreen(roomId: number, userId: string, on: boolean): void;
}

/** Starts an emulator and resolves once it listens. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const resolved = resolveOptions(options);
  let stats = emptyStats();
  let baseUrl = '';
  const scheduler = new Scheduler();
  const faults = new FaultBoard(resolved.seed);
  const callbacks = new CallbackDispatcher(resolved, scheduler, () => stats);
  const service = new RecordingService(resolved, scheduler, callbacks, faults, () => stats, () => resolved.publicUrl ?? baseUrl);
  const reset = () => {
    scheduler.cancelAll();
    service.reset();
    callbacks.reset();
    faults.clear();
    stats = emptyStats();
  };
  const server = createServer(createHandler({ options: resolved, service, callbacks, faults, stats: () => stats, reset }));
  await listen(server, resolved.host, resolved.port);
  const port = (server.address() as AddressInfo).port;
  baseUrl = `http://${urlHost(resolved.host)}:${port}`;

  return {
    url: baseUrl,
    port,
    options: resolved,
    close: () => close(server, scheduler),
    stats: () => structuredClone(stats),
    tasks: () => service.snapshots(),
    task: (taskId) => service.snapshot(taskId),
    room: (roomId) => service.rooms.snapshot(roomId),
    callbackAttempts: () => callbacks.log(),
    faults: () => faults.current(),
    setFaults: (patch) => faults.apply(patch),
    clearFaults: () => faults.clear(),
    reset,
    join: (roomId, userId, streams = {}) =>
      service.rooms.join(roomId, userId, { camera: streams.camera ?? true, screen: streams.screen ?? false }, Date.now()),
    leave: (roomId, userId) => service.rooms.leave(roomId, userId, Date.now()),
    setCamera: (roomId, userId, on) => service.rooms.setStream(roomId, userId, 'camera', on, Date.now()),
    setScreen: (roomId, userId, on) => service.rooms.setStream(roomId, userId, 'screen', on, Date.now()),
  };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

async function close(server: Server, scheduler: Scheduler): Promise<void> {
  scheduler.cancelAll(true);
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // Hung calls and idle keep-alive sockets would otherwise hold close() forever.
  server.closeAllConnections();
  await closed;
}

/** A wildcard address is not reachable as such: URLs use the loopback instead. */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
