/**
 * The scripted class of `npm run demo`, over HTTP only: the platform API to record, the
 * emulator's control API to play the class. Shared by the demo and by the test that proves
 * the local stack (test/local/local-stack.test.ts), so both run the same scenario.
 *
 * The class: start a recording; the teacher joins with a camera; two students join; the
 * teacher shares a screen for a while; a student leaves; stop; wait for the result.
 */

/** What the API returns for a task (the fields the demo reads). */
export interface DemoTask {
  task_id: string | null;
  record_user_id: string;
  room_id: number;
  status: string;
  timeline: Array<{ status: string; at: string; source: string; detail: string | null }>;
  videos: Array<{ kind: string; user_id: string; offset_ms: number; duration_ms: number; size_bytes: number; url: string; file_id: string }>;
  callbacks: Record<string, { count: number } | null>;
  polls: number;
}

/** A video as the emulator says it produced it. */
export interface EmulatorVideo {
  video_type: number;
  user_id: string;
  video_play_time: number;
  video_duration: number;
  video_id: string;
}

export interface ScenarioOptions {
  apiUrl: string;
  apiToken: string;
  emulatorUrl: string;
  /** Room to record; a new one per run by default. */
  roomId?: number;
  /** Multiplies every pause of the class (1 = the demo's pace, a class of about 12 s). */
  timeScale?: number;
  /** How long to wait for the final state. */
  resultTimeoutMs?: number;
  /** Called with a short line at each step and while waiting. */
  onProgress?: (line: string, kind: 'step' | 'wait') => void;
}

export interface ScenarioResult {
  task: DemoTask;
  /** What the emulator reports for the same task. */
  emulatorVideos: EmulatorVideo[];
  /** The emulator's task state (finished, failed...). */
  emulatorState: string;
}

export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
}

const POLL_INTERVAL_MS = 500;
const DEFAULT_RESULT_TIMEOUT_MS = 120_000;
const TERMINAL = new Set(['finished', 'failed']);

async function call<T>(url: string, init: RequestInit & { token?: string } = {}): Promise<T> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  const response = await fetch(url, { ...init, headers });
  const text = await response.text();
  if (!response.ok) throw new ScenarioError(`${init.method ?? 'GET'} ${new URL(url).pathname} answered ${response.status}: ${text.slice(0, 300)}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Plays the class and waits for its recording's final state. */
export async function runClassScenario(options: ScenarioOptions): Promise<ScenarioResult> {
  const scale = options.timeScale ?? 1;
  const progress = options.onProgress ?? (() => undefined);
  const roomId = options.roomId ?? 100_000 + Math.floor(Math.random() * 800_000);
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms * scale));
  const api = (path: string, init: RequestInit = {}) => call<DemoTask>(`${options.apiUrl}${path}`, { ...init, token: options.apiToken });
  const room = (path: string, body: unknown = {}) =>
    call(`${options.emulatorUrl}/_emulator/rooms/${roomId}${path}`, { method: 'POST', body: JSON.stringify(body) });

  const timeoutMs = options.resultTimeoutMs ?? DEFAULT_RESULT_TIMEOUT_MS;
  let id = '';
  async function waitForStatus(done: (status: string) => boolean, what: string): Promise<DemoTask> {
    const waitStarted = Date.now();
    let task = await api(`/recordings/${encodeURIComponent(id)}`);
    while (!done(task.status)) {
      if (Date.now() - waitStarted > timeoutMs) throw new ScenarioError(`waited ${timeoutMs} ms for ${what}; status is ${task.status}`);
      progress(`waiting for ${what}: ${task.status}, ${((Date.now() - waitStarted) / 1000).toFixed(1)} s`, 'wait');
      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
      task = await api(`/recordings/${encodeURIComponent(id)}`);
    }
    return task;
  }

  progress(`room ${roomId}: starting a recording`, 'step');
  const started = await api('/recordings', {
    method: 'POST',
    body: JSON.stringify({ room_id: roomId }),
    headers: { 'idempotency-key': `demo-${roomId}` },
  });
  id = started.record_user_id;
  progress(`recording ${id} (task ${started.task_id ?? 'not yet known'}) is ${started.status}`, 'step');
  // The vendor begins about 2 s after start (CONTRACT.md "Flow" 3); the class starts when it does.
  await waitForStatus((status) => status !== 'starting' && status !== 'prepared', 'the recorder to join the room');

  progress('the teacher joins with a camera', 'step');
  await room('/users/teacher/join', { camera: true });
  await pause(2_000);
  progress('two students join with cameras', 'step');
  await room('/users/student-1/join', { camera: true });
  await room('/users/student-2/join', { camera: true });
  await pause(2_000);
  progress('the teacher shares a screen', 'step');
  await room('/users/teacher/screen', { on: true });
  await pause(3_000);
  progress('the teacher stops sharing', 'step');
  await room('/users/teacher/screen', { on: false });
  await pause(1_000);
  progress('student-2 leaves', 'step');
  await room('/users/student-2/leave');
  await pause(2_000);
  progress('stopping the recording', 'step');
  await api(`/recordings/${encodeURIComponent(id)}/stop`, { method: 'POST' });

  const task = await waitForStatus((status) => TERMINAL.has(status), 'the result');
  const upstream = await call<{ state: string; videos: EmulatorVideo[] }>(`${options.emulatorUrl}/_emulator/tasks/${task.task_id}`);
  return { task, emulatorVideos: upstream.videos, emulatorState: upstream.state };
}

const KIND_OF_VIDEO_TYPE: Record<number, string> = { 0: 'camera', 1: 'screen', 2: 'whiteboard' };

/** Differences between the recorded videos and the emulator's, as readable lines (none: they match). */
export function compareVideos(task: DemoTask, emulatorVideos: readonly EmulatorVideo[]): string[] {
  const key = (kind: string, user: string, offsetMs: number, durationMs: number, fileId: string) =>
    `${kind} ${user || '(whiteboard)'} @${offsetMs}ms for ${durationMs}ms [${fileId}]`;
  const ours = task.videos.map((v) => key(v.kind, v.user_id, v.offset_ms, v.duration_ms, v.file_id)).sort();
  const theirs = emulatorVideos
    .map((v) => key(KIND_OF_VIDEO_TYPE[v.video_type] ?? 'unknown', v.user_id, v.video_play_time, v.video_duration, v.video_id))
    .sort();
  return [
    ...ours.filter((line) => !theirs.includes(line)).map((line) => `recorded but not produced: ${line}`),
    ...theirs.filter((line) => !ours.includes(line)).map((line) => `produced but not recorded: ${line}`),
  ];
}
