/**
 * The chaos scenario: many classes recorded at once through the whole local stack while the
 * TIC emulator loses, repeats and reorders callbacks, fails and hangs calls; then every
 * recording is checked against what the emulator really recorded.
 *
 * Shared by `npm run chaos` (scripts/chaos.ts, ~500 recordings) and the smaller run inside
 * `npm test` (test/chaos/chaos.test.ts). The stack is started by the caller with
 * `chaosStackOptions(...)`; `runChaos` drives it and returns a report; `formatChaosReport`
 * prints it as a table.
 *
 * What "right" means, per class (one room):
 * - our tasks in the room are exactly the starts we made (one per Idempotency-Key, whatever
 *   the retries of a POST that timed out), and every recorder the emulator ran in the room is
 *   one of them (nothing started upstream without a task);
 * - a task the emulator recorded is `finished` with exactly the emulator's videos (file id,
 *   type, user, offset, duration) and its task id; one the emulator never ran is `failed`
 *   (`start_refused` for a refused start, `start_unconfirmed` for an unanswered one);
 * - no task is still open at the end (lost), and none became terminal later than its deadline
 *   plus the sweep's reach.
 * One outcome is accepted as the contract's limit, and counted apart: a `start` that went
 * unanswered although the vendor started it, whose `record_started` AND `record_finished`
 * were both dropped. Without a task id nothing can be queried (the vendor has no lookup by
 * user id), so the task fails `start_unconfirmed` — the state machine's documented verdict.
 */
import { randomUUID } from 'node:crypto';
import type { LocalStack, LocalStackOptions } from '../local/stack';
import type { TaskSnapshot } from '../emulator/index';

const MS_PER_SECOND = 1000;

/** Timings of one chaos run; every delay is scaled down from the vendor's and ours. */
export interface ChaosTimings {
  /** Shortest and longest class, ms (from the first start to the last user leaving). */
  classMinMs: number;
  classMaxMs: number;
  /** The emulator's idle auto-stop, ms. */
  idleStopMs: number;
  startDeadlineSeconds: number;
  finishDeadlineSeconds: number;
  maxRecordingSeconds: number;
  sweepGraceSeconds: number;
  sweepIntervalMs: number;
  /** The functions' per-attempt timeout on TIC calls. */
  ticTimeoutMs: number;
  /** Our client's first timeout on `POST /recordings`: below ticTimeoutMs, so a hung start makes it retry. */
  firstPostTimeoutMs: number;
}

/** The timings of `npm run chaos`. */
export const FULL_RUN_TIMINGS: ChaosTimings = {
  classMinMs: 2_000,
  classMaxMs: 6_000,
  idleStopMs: 1_500,
  startDeadlineSeconds: 30,
  finishDeadlineSeconds: 30,
  maxRecordingSeconds: 20,
  sweepGraceSeconds: 2,
  sweepIntervalMs: 2_000,
  ticTimeoutMs: 600,
  firstPostTimeoutMs: 450,
};

/** Shorter deadlines for the run inside `npm test`. */
export const TEST_RUN_TIMINGS: ChaosTimings = {
  ...FULL_RUN_TIMINGS,
  classMinMs: 1_500,
  classMaxMs: 3_500,
  startDeadlineSeconds: 12,
  finishDeadlineSeconds: 12,
  maxRecordingSeconds: 8,
};

/** What the emulator does wrong, by chance (seeded). Start faults are armed one at a time by the driver. */
export const CHAOS_FAULTS = {
  callbacks: { dropRate: 0.3, duplicateRate: 0.2, reorderRate: 0.1 },
  query: { errorRate: 0.05, hangRate: 0.01 },
  // The stop takes effect, then its answer is lost or an error: the client's retry meets a stopping task or 20011.
  stop: { errorRate: 0.03, hangRate: 0.01, afterEffect: true },
} as const;

/** Share of starts for which the driver arms a start fault (refused, unanswered, unanswered-but-started). */
const START_FAULT_SHARE = 0.06;
/** Share of starts whose POST the client sends twice at once with the same Idempotency-Key. */
const DOUBLE_POST_SHARE = 0.05;
/** Client timeouts of the successive tries of one `POST /recordings` (same Idempotency-Key). */
const LATER_POST_TIMEOUTS_MS = [2_000, 5_000, 10_000, 20_000];
const OTHER_CALL_TIMEOUT_MS = 10_000;
const STOP_TRIES = 6;
const STOP_RETRY_DELAY_MS = 700;
/** Settle: how often open tasks are looked at once every class is over. */
const SETTLE_POLL_MS = 1_000;
/** Extra time allowed past a deadline for the last check to land or the sweep to resume it. */
const DEADLINE_SLACK_EXTRA_MS = 5_000;

/** The stack options a chaos run needs: emulator timings and the functions' time-scaled settings. */
export function chaosStackOptions(
  timings: ChaosTimings,
  options: { seed?: number; logLevel?: string } = {},
): Pick<LocalStackOptions, 'emulator' | 'functionEnv' | 'sweepIntervalMs'> {
  return {
    emulator: {
      startDelayMs: 200,
      stopDelayMs: 200,
      processingDelayMs: 300,
      callbackRetryIntervalMs: 500,
      callbackMaxRetries: 3,
      callbackTimeoutMs: 3_000,
      idleStopMs: timings.idleStopMs,
      seed: options.seed ?? 1,
    },
    functionEnv: {
      START_CHECK_DELAY_SECONDS: '1',
      STOP_CHECK_DELAY_SECONDS: '1',
      CHECK_BACKOFF_FACTOR: '2',
      START_DEADLINE_SECONDS: String(timings.startDeadlineSeconds),
      FINISH_DEADLINE_SECONDS: String(timings.finishDeadlineSeconds),
      MAX_RECORDING_SECONDS: String(timings.maxRecordingSeconds),
      SWEEP_GRACE_SECONDS: String(timings.sweepGraceSeconds),
      TIC_TIMEOUT_MS: String(timings.ticTimeoutMs),
      LOG_LEVEL: options.logLevel ?? 'SILENT',
      // Deadline failures are expected here (unanswered starts); their metric lines would bury the table.
      POWERTOOLS_METRICS_DISABLED: options.logLevel === undefined || options.logLevel === 'SILENT' ? 'true' : 'false',
    },
    sweepIntervalMs: timings.sweepIntervalMs,
  };
}

export interface ChaosRunOptions {
  /** Starts to make (each is one recording; a class makes one or two). */
  recordings: number;
  /** Classes in flight at once. */
  concurrency: number;
  seed: number;
  timings: ChaosTimings;
  /** Progress lines. */
  log?: (line: string) => void;
}

export interface Percentiles {
  count: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
}

export interface ChaosReport {
  classes: number;
  /** Starts made (distinct Idempotency-Keys). */
  recordings: number;
  tasks: { finished: number; failed: number; byReason: Record<string, number> };
  /** POSTs the client repeated with the same key (timeouts, deliberate double sends). */
  postRetries: number;
  startFaultsArmed: { refused: number; unanswered: number; unansweredButStarted: number };
  stopConflicts: number;
  callbacks: {
    produced: number;
    attempts: number;
    delivered: number;
    dropped: number;
    duplicated: number;
    reordered: number;
    retried: number;
    gaveUp: number;
  };
  /** Callbacks our tasks counted, every arrival (equal to the emulator's delivered ones). */
  callbackArrivals: number;
  /** Of those, arrivals beyond the first per task and type: the duplicates. */
  extraCallbackArrivals: number;
  polls: { taskPolls: number; emulatorQueries: number; queryFaults: number };
  emulatorTasks: { started: number; stopped: number; autoStopped: number; finished: number };
  /** Our task's final state minus the vendor's finish, for recordings that finished. */
  timeToFinal: Percentiles;
  lost: number;
  /** The contract's limit (see the file comment): started upstream, unanswered, both callbacks dropped. */
  unrecoverable: number;
  stuckPastDeadline: number;
  mismatches: string[];
  durationMs: number;
}

/** Whether the run found a fault in the system. */
export function chaosFailed(report: ChaosReport): boolean {
  return report.lost > 0 || report.stuckPastDeadline > 0 || report.mismatches.length > 0;
}

// ---------------------------------------------------------------------------------------
// The plan: what happens in each class, from a seeded random source.

type ClassKind = 'stopped' | 'idle' | 'twice' | 'empty';

interface UserAction {
  atMs: number;
  userId: string;
  action: 'join' | 'leave' | 'camera' | 'screen';
  body?: Record<string, boolean>;
}

interface RecordingPlan {
  startAtMs: number;
  /** Undefined: never stopped by us (the emulator's idle auto-stop ends it). */
  stopAtMs?: number;
}

interface ClassPlan {
  roomId: number;
  kind: ClassKind;
  userActions: UserAction[];
  recordings: RecordingPlan[];
}

/** mulberry32: small and seedable. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function planClass(roomId: number, random: () => number, timings: ChaosTimings): ClassPlan {
  const between = (low: number, high: number) => Math.round(low + random() * (high - low));
  const roll = random();
  const kind: ClassKind = roll < 0.55 ? 'stopped' : roll < 0.8 ? 'idle' : roll < 0.92 ? 'twice' : 'empty';
  const lengthMs = between(timings.classMinMs, timings.classMaxMs);
  const userActions: UserAction[] = [];
  const userCount = kind === 'empty' ? 0 : between(1, 4);
  for (let index = 0; index < userCount; index += 1) {
    const userId = index === 0 ? 'teacher' : `student${index}`;
    const joinAtMs = index === 0 ? between(0, lengthMs * 0.3) : between(0, lengthMs * 0.6);
    const leaveAtMs = index === 0 ? between(lengthMs * 0.8, lengthMs) : between(joinAtMs + lengthMs * 0.1, lengthMs);
    const camera = index === 0 || random() < 0.7;
    userActions.push({ atMs: joinAtMs, userId, action: 'join', body: { camera, screen: false } });
    const span = leaveAtMs - joinAtMs;
    if (random() < 0.35) {
      // A screen share during part of the user's time.
      const onAtMs = joinAtMs + Math.round(span * (0.1 + random() * 0.3));
      userActions.push({ atMs: onAtMs, userId, action: 'screen', body: { on: true } });
      if (random() < 0.7) userActions.push({ atMs: onAtMs + Math.round(span * 0.3), userId, action: 'screen', body: { on: false } });
    }
    if (camera && random() < 0.2) {
      // Camera off for a while, then on again: two camera videos.
      const offAtMs = joinAtMs + Math.round(span * 0.45);
      userActions.push({ atMs: offAtMs, userId, action: 'camera', body: { on: false } });
      userActions.push({ atMs: offAtMs + Math.round(span * 0.2), userId, action: 'camera', body: { on: true } });
    }
    userActions.push({ atMs: leaveAtMs, userId, action: 'leave' });
  }
  const lastLeaveMs = userActions.reduce((latest, action) => (action.action === 'leave' ? Math.max(latest, action.atMs) : latest), 0);
  // Stopped at some point around the end: while people are still in the room, or after the
  // room went idle and the emulator stopped it itself (the stop then gets 20011).
  const stopAroundEndMs = () => Math.max(300, lastLeaveMs + between(-lengthMs * 0.3, timings.idleStopMs * 1.4));
  const recordings: RecordingPlan[] =
    kind === 'idle'
      ? [{ startAtMs: 0 }]
      : kind === 'twice'
        ? [
            { startAtMs: 0, stopAtMs: Math.round(lengthMs * 0.45) },
            { startAtMs: Math.round(lengthMs * 0.5), stopAtMs: Math.max(Math.round(lengthMs * 0.6), stopAroundEndMs()) },
          ]
        : kind === 'empty' && random() < 0.5
          ? [{ startAtMs: 0 }]
          : [{ startAtMs: 0, stopAtMs: kind === 'empty' ? between(300, lengthMs) : stopAroundEndMs() }];
  userActions.sort((a, b) => a.atMs - b.atMs);
  return { roomId, kind, userActions, recordings };
}

// ---------------------------------------------------------------------------------------
// The driver.

interface ApiTaskView {
  task_id: string | null;
  record_user_id: string;
  room_id: number;
  status: string;
  timeline: { status: string; at: string; source: string; detail: string | null }[];
  videos: { file_id: string; video_type: number; user_id: string; offset_ms: number; duration_ms: number }[];
  callbacks: { record_started: { count: number } | null; record_finished: { count: number } | null };
  polls: number;
  failure: { reason: string; detail: string } | null;
}

type StartOutcome =
  | { kind: 'accepted' | 'unanswered'; recordUserId: string }
  | { kind: 'refused' }
  | { kind: 'no_answer' };

interface RoomLedger {
  plan: ClassPlan;
  /** Starts made: one per Idempotency-Key. */
  starts: number;
  /** Record user ids we were told of (202). */
  acceptedIds: Set<string>;
  /** Tasks whose POST was answered while still `starting` (e.g. a same-key retry that overtook a slow first try). */
  startingIds: Set<string>;
  refused: number;
  /** Starts whose POST never got an answer even after retries. */
  unanswered: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

class ChaosDriver {
  readonly rooms = new Map<number, RoomLedger>();
  postRetries = 0;
  stopConflicts = 0;
  readonly armed = { refused: 0, unanswered: 0, unansweredButStarted: 0 };
  readonly problems: string[] = [];
  private readonly random: () => number;
  private readonly auth: Record<string, string>;

  constructor(
    private readonly stack: LocalStack,
    private readonly options: ChaosRunOptions,
  ) {
    this.random = seededRandom(options.seed * 7919 + 17);
    this.auth = { authorization: `Bearer ${stack.apiToken}`, 'content-type': 'application/json' };
  }

  async run(): Promise<void> {
    const { recordings, concurrency, timings, log } = this.options;
    const roomBase = 100_000 + Math.floor(this.random() * 1_000_000) * 10;
    const plans: ClassPlan[] = [];
    let plannedStarts = 0;
    while (plannedStarts < recordings) {
      const plan = planClass(roomBase + plans.length, this.random, timings);
      plans.push(plan);
      plannedStarts += plan.recordings.length;
    }
    let next = 0;
    let done = 0;
    const worker = async () => {
      while (next < plans.length) {
        const plan = plans[next]!;
        next += 1;
        await this.runClass(plan);
        done += 1;
        if (done % 50 === 0) log?.(`${done}/${plans.length} classes played`);
      }
    };
    // Class starts are spread over the first second so that the first wave does not arrive as one burst.
    await Promise.all(
      Array.from({ length: Math.min(concurrency, plans.length) }, async (_, index) => {
        await sleep((index * 1000) / concurrency);
        await worker();
      }),
    );
  }

  private async runClass(plan: ClassPlan): Promise<void> {
    const ledger: RoomLedger = { plan, starts: 0, acceptedIds: new Set(), startingIds: new Set(), refused: 0, unanswered: 0 };
    this.rooms.set(plan.roomId, ledger);
    const t0 = Date.now();
    const users = (async () => {
      for (const action of plan.userActions) {
        await sleep(t0 + action.atMs - Date.now());
        await this.control(plan.roomId, action);
      }
    })();
    const recorder = (async () => {
      for (const recording of plan.recordings) {
        await sleep(t0 + recording.startAtMs - Date.now());
        let outcome = await this.start(ledger);
        if (outcome.kind === 'refused') {
          // What a caller does with a 502: start again (a new start, a new key).
          outcome = await this.start(ledger);
        }
        if (recording.stopAtMs === undefined || outcome.kind === 'refused' || outcome.kind === 'no_answer') continue;
        await sleep(t0 + recording.stopAtMs - Date.now());
        await this.stop(outcome.recordUserId);
      }
    })();
    await Promise.all([users, recorder]);
  }

  private async control(roomId: number, action: UserAction): Promise<void> {
    const url = `${this.stack.emulator.url}/_emulator/rooms/${roomId}/users/${action.userId}/${action.action}`;
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(action.body ?? {}),
      signal: AbortSignal.timeout(OTHER_CALL_TIMEOUT_MS),
    });
    await response.text();
    if (response.status !== 200) this.problems.push(`room ${roomId}: emulator ${action.action} of ${action.userId} answered ${response.status}`);
  }

  /**
   * Arms one start fault when none is pending. The emulator decides a fault synchronously
   * when a start arrives, in this process, so "none pending" cannot change under us; which
   * start gets it does not matter: the verification does not rely on it.
   */
  private maybeArmStartFault(): void {
    if (this.random() >= START_FAULT_SHARE) return;
    const pending = this.stack.emulator.faults().start;
    if (pending.errorNext > 0 || pending.hangNext > 0) return;
    const roll = this.random();
    if (roll < 1 / 3) {
      this.stack.emulator.setFaults({ start: { errorNext: 1, afterEffect: false } });
      this.armed.refused += 1;
    } else if (roll < 2 / 3) {
      this.stack.emulator.setFaults({ start: { hangNext: 1, afterEffect: false } });
      this.armed.unanswered += 1;
    } else {
      this.stack.emulator.setFaults({ start: { hangNext: 1, afterEffect: true } });
      this.armed.unansweredButStarted += 1;
    }
  }

  /** `POST /recordings` with an Idempotency-Key, repeated with the same key while it times out. */
  private async start(ledger: RoomLedger): Promise<StartOutcome> {
    const key = randomUUID();
    ledger.starts += 1;
    this.maybeArmStartFault();
    const body = JSON.stringify({ room_id: ledger.plan.roomId });
    const post = (timeoutMs: number) =>
      fetch(`${this.stack.apiUrl}/recordings`, {
        method: 'POST',
        headers: { ...this.auth, 'idempotency-key': key },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      }).then(async (response) => ({ status: response.status, json: (await response.json()) as unknown }));
    const timeouts = [this.options.timings.firstPostTimeoutMs, ...LATER_POST_TIMEOUTS_MS];
    const double = this.random() < DOUBLE_POST_SHARE;
    const seen = new Set<string>();
    let answer: { status: number; json: unknown } | undefined;
    for (const [index, timeoutMs] of timeouts.entries()) {
      if (index > 0) this.postRetries += 1;
      try {
        if (index === 0 && double) {
          // The same request twice at once (a retry racing the original): both must name one task.
          this.postRetries += 1;
          const both = await Promise.allSettled([post(LATER_POST_TIMEOUTS_MS[0]!), post(LATER_POST_TIMEOUTS_MS[0]!)]);
          for (const one of both) {
            if (one.status === 'fulfilled') {
              answer = one.value;
              const id = (one.value.json as { record_user_id?: string }).record_user_id;
              if (id) seen.add(id);
            }
          }
          if (answer === undefined) continue;
        } else {
          answer = await post(timeoutMs);
        }
        break;
      } catch {
        // Timed out (or the connection dropped): send the same request again, same key.
      }
    }
    if (seen.size > 1) this.problems.push(`room ${ledger.plan.roomId}: one Idempotency-Key gave two tasks ${[...seen].join(', ')}`);
    if (answer === undefined) {
      ledger.unanswered += 1;
      this.problems.push(`room ${ledger.plan.roomId}: POST /recordings never answered`);
      return { kind: 'no_answer' };
    }
    if (answer.status === 502) {
      ledger.refused += 1;
      return { kind: 'refused' };
    }
    const task = answer.json as Partial<ApiTaskView>;
    if ((answer.status === 202 || answer.status === 200) && typeof task.record_user_id === 'string') {
      ledger.acceptedIds.add(task.record_user_id);
      if (task.status === 'failed' && task.failure?.reason === 'start_refused') {
        // The replay of a start whose first POST timed out on our side but was refused upstream.
        ledger.refused += 1;
        return { kind: 'refused' };
      }
      if (task.status === 'starting') ledger.startingIds.add(task.record_user_id);
      return { kind: task.status === 'starting' ? 'unanswered' : 'accepted', recordUserId: task.record_user_id };
    }
    this.problems.push(`room ${ledger.plan.roomId}: POST /recordings answered ${answer.status} ${JSON.stringify(answer.json)}`);
    return { kind: 'no_answer' };
  }

  /** `POST /recordings/{id}/stop`; a 409 (no vendor task id yet) or 502 is tried again a few times. */
  private async stop(recordUserId: string): Promise<void> {
    for (let tryIndex = 0; tryIndex < STOP_TRIES; tryIndex += 1) {
      if (tryIndex > 0) await sleep(STOP_RETRY_DELAY_MS);
      let status: number;
      try {
        const response = await fetch(`${this.stack.apiUrl}/recordings/${recordUserId}/stop`, {
          method: 'POST',
          headers: this.auth,
          signal: AbortSignal.timeout(OTHER_CALL_TIMEOUT_MS),
        });
        status = response.status;
        await response.text();
      } catch {
        continue;
      }
      if (status === 202) return;
      if (status === 409) {
        this.stopConflicts += 1;
        continue;
      }
      if (status !== 502) {
        this.problems.push(`${recordUserId}: stop answered ${status}`);
        return;
      }
    }
    // Never stopped by us: the emulator's idle auto-stop ends it (every user leaves).
  }

  async listRoom(roomId: number): Promise<ApiTaskView[]> {
    const response = await fetch(`${this.stack.apiUrl}/rooms/${roomId}/recordings?limit=100`, {
      headers: this.auth,
      signal: AbortSignal.timeout(OTHER_CALL_TIMEOUT_MS),
    });
    if (response.status !== 200) throw new Error(`GET /rooms/${roomId}/recordings answered ${response.status}`);
    return ((await response.json()) as { recordings: ApiTaskView[] }).recordings;
  }
}

// ---------------------------------------------------------------------------------------
// Settle and verify.

const TERMINAL = new Set(['finished', 'failed']);

function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!);
  return { count: sorted.length, p50Ms: at(0.5), p95Ms: at(0.95), maxMs: sorted.at(-1) ?? 0 };
}

function videoKey(video: { id: string; type: number; user: string; offsetMs: number; durationMs: number }): string {
  return `${video.id}|${video.type}|${video.user}|${video.offsetMs}|${video.durationMs}`;
}

/** When the task reached the status it ends in (the last timeline entry of that status). */
function finalAtMs(task: ApiTaskView): number {
  const entry = [...task.timeline].reverse().find((item) => item.status === task.status);
  return entry ? Date.parse(entry.at) : Number.NaN;
}

function firstTerminalAtMs(task: ApiTaskView): number {
  const entry = task.timeline.find((item) => TERMINAL.has(item.status));
  return entry ? Date.parse(entry.at) : Number.NaN;
}

/** Runs the scenario on a started stack (see `chaosStackOptions`) and checks every recording. */
export async function runChaos(stack: LocalStack, options: ChaosRunOptions): Promise<ChaosReport> {
  const startedAt = Date.now();
  const { timings, log } = options;
  stack.emulator.setFaults(CHAOS_FAULTS);
  const driver = new ChaosDriver(stack, options);
  await driver.run();
  log?.(`all classes played in ${((Date.now() - startedAt) / MS_PER_SECOND).toFixed(1)} s; waiting for every task to settle`);

  // Settle: every emulator task finished, its callbacks' retry window over, every task of ours terminal.
  const emulatorOptions = stack.emulator.options;
  const callbackWindowMs = emulatorOptions.callbackRetryIntervalMs * (emulatorOptions.callbackMaxRetries + 1) + 1_000;
  const settleLimitMs =
    (timings.startDeadlineSeconds + timings.maxRecordingSeconds + timings.finishDeadlineSeconds + timings.sweepGraceSeconds) * MS_PER_SECOND +
    timings.sweepIntervalMs +
    30_000;
  const settleStart = Date.now();
  const openRooms = new Set(driver.rooms.keys());
  let lastVendorFinishMs = 0;
  while (Date.now() - settleStart < settleLimitMs) {
    const vendorTasks = stack.emulator.tasks();
    const vendorOpen = vendorTasks.some((task) => task.state !== 'finished' && task.state !== 'failed');
    lastVendorFinishMs = Math.max(0, ...vendorTasks.map((task) => task.finishedAtMs ?? 0));
    for (const roomId of [...openRooms]) {
      const tasks = await driver.listRoom(roomId);
      if (tasks.every((task) => TERMINAL.has(task.status))) openRooms.delete(roomId);
    }
    if (!vendorOpen && openRooms.size === 0 && Date.now() - lastVendorFinishMs > callbackWindowMs) break;
    await sleep(SETTLE_POLL_MS);
  }
  log?.(`settled after ${((Date.now() - settleStart) / MS_PER_SECOND).toFixed(1)} s`);

  // The store itself, for each task's deadline (the API does not show it). Loaded after the
  // stack started, this is the handlers' own module instance and configuration.
  const { store } = await import('../lib/runtime');
  const vendorByUser = new Map<string, TaskSnapshot[]>();
  for (const snapshot of stack.emulator.tasks()) {
    vendorByUser.set(snapshot.userId, [...(vendorByUser.get(snapshot.userId) ?? []), snapshot]);
  }
  const attemptedTaskIds = new Set(stack.emulator.callbackAttempts().map((attempt) => attempt.taskId));
  const mismatches = [...driver.problems];
  const delays: number[] = [];
  const byReason: Record<string, number> = {};
  let finished = 0;
  let failed = 0;
  let lost = 0;
  let unrecoverable = 0;
  let stuck = 0;
  let taskPolls = 0;
  let extraArrivals = 0;
  let arrivals = 0;
  let recordings = 0;
  const deadlineSlackMs = timings.sweepGraceSeconds * MS_PER_SECOND + timings.sweepIntervalMs + DEADLINE_SLACK_EXTRA_MS;

  for (const [roomId, ledger] of driver.rooms) {
    recordings += ledger.starts;
    const ours = await driver.listRoom(roomId);
    const where = `room ${roomId} (${ledger.plan.kind})`;
    if (ours.length !== ledger.starts) {
      mismatches.push(`${where}: ${ledger.starts} starts made, ${ours.length} tasks stored`);
    }
    for (const id of ledger.acceptedIds) {
      if (!ours.some((task) => task.record_user_id === id)) {
        lost += 1;
        mismatches.push(`${where}: task ${id} answered 202 but is not stored`);
      }
    }
    const ourIds = new Set(ours.map((task) => task.record_user_id));
    for (const vendorTask of stack.emulator.tasks().filter((task) => task.roomId === roomId)) {
      if (!ourIds.has(vendorTask.userId)) mismatches.push(`${where}: the emulator recorded ${vendorTask.taskId} for ${vendorTask.userId}, which has no task`);
    }
    const refusedTasks = ours.filter((task) => task.failure?.reason === 'start_refused');
    // A task answered while still `starting` (its same-key retry overtook the first try, which
    // was then refused) ends start_refused without the client ever seeing a 502: GET tells it.
    const refusedAfterStarting = refusedTasks.filter((task) => ledger.startingIds.has(task.record_user_id)).length;
    if (refusedTasks.length !== ledger.refused + refusedAfterStarting) {
      mismatches.push(`${where}: ${ledger.refused} starts refused (502), ${refusedTasks.length} tasks failed start_refused`);
    }

    for (const task of ours) {
      const id = task.record_user_id;
      taskPolls += task.polls;
      arrivals += (task.callbacks.record_started?.count ?? 0) + (task.callbacks.record_finished?.count ?? 0);
      extraArrivals += Math.max(0, (task.callbacks.record_started?.count ?? 0) - 1) + Math.max(0, (task.callbacks.record_finished?.count ?? 0) - 1);
      if (!TERMINAL.has(task.status)) {
        lost += 1;
        mismatches.push(`${where}: ${id} still ${task.status} after settling`);
        continue;
      }
      if (task.status === 'finished') finished += 1;
      else {
        failed += 1;
        const reason = task.failure?.reason ?? 'unknown';
        byReason[reason] = (byReason[reason] ?? 0) + 1;
      }
      const stored = await store.get(id);
      const terminalAt = firstTerminalAtMs(task);
      if (stored !== undefined && terminalAt > stored.deadlineAtMs + deadlineSlackMs) {
        stuck += 1;
        mismatches.push(`${where}: ${id} became terminal ${terminalAt - stored.deadlineAtMs} ms after its deadline`);
      }
      const vendor = vendorByUser.get(id) ?? [];
      if (vendor.length > 1) {
        mismatches.push(`${where}: the emulator ran ${vendor.length} recorders for ${id}`);
        continue;
      }
      const vendorTask = vendor[0];
      if (vendorTask === undefined) {
        // Refused (counted against the 502s above), or unanswered and never started upstream.
        const reason = task.failure?.reason ?? '';
        if (task.status !== 'failed' || (reason !== 'start_refused' && reason !== 'start_unconfirmed')) {
          mismatches.push(`${where}: ${id} never ran upstream; expected failed start_refused or start_unconfirmed, got ${task.status} ${reason}`);
        } else if (task.videos.length > 0) {
          mismatches.push(`${where}: ${id} never ran upstream but lists ${task.videos.length} videos`);
        }
        continue;
      }
      if (vendorTask.state !== 'finished' || vendorTask.errorCode !== 0) {
        mismatches.push(`${where}: emulator task ${vendorTask.taskId} ended ${vendorTask.state} (${vendorTask.errorCode} ${vendorTask.errorMsg})`);
        continue;
      }
      if (task.status !== 'finished') {
        const neverHeard =
          task.failure?.reason === 'start_unconfirmed' && task.task_id === null && !attemptedTaskIds.has(vendorTask.taskId);
        if (neverHeard) unrecoverable += 1;
        else mismatches.push(`${where}: ${id} is ${task.status} (${task.failure?.reason}: ${task.failure?.detail}) but the emulator recorded ${vendorTask.taskId}`);
        continue;
      }
      if (task.task_id !== vendorTask.taskId) mismatches.push(`${where}: ${id} names task ${task.task_id}, the emulator ${vendorTask.taskId}`);
      const expectedVideos = vendorTask.videos
        .map((video) => videoKey({ id: video.video_id, type: video.video_type, user: video.user_id, offsetMs: video.video_play_time, durationMs: video.video_duration }))
        .sort();
      const actualVideos = task.videos
        .map((video) => videoKey({ id: video.file_id, type: video.video_type, user: video.user_id, offsetMs: video.offset_ms, durationMs: video.duration_ms }))
        .sort();
      if (JSON.stringify(expectedVideos) !== JSON.stringify(actualVideos)) {
        mismatches.push(`${where}: ${id} videos differ: expected ${JSON.stringify(expectedVideos)}, got ${JSON.stringify(actualVideos)}`);
      }
      if (vendorTask.finishedAtMs !== undefined) delays.push(finalAtMs(task) - vendorTask.finishedAtMs);
    }
  }

  const stats = stack.emulator.stats();
  // Every callback attempt answered {"error_code":0} (duplicates included) was stored exactly once:
  // as a change, a duplicate or a late arrival.
  const deliveredAttempts = stack.emulator.callbackAttempts().filter((attempt) => attempt.outcome === 'delivered').length;
  if (arrivals !== deliveredAttempts) {
    mismatches.push(`tasks counted ${arrivals} callback arrivals, the emulator had ${deliveredAttempts} attempts answered 0`);
  }
  return {
    classes: driver.rooms.size,
    recordings,
    tasks: { finished, failed, byReason },
    postRetries: driver.postRetries,
    startFaultsArmed: { ...driver.armed },
    stopConflicts: driver.stopConflicts,
    callbacks: {
      produced: stats.callbacks.queued,
      attempts: stats.callbacks.attempts,
      delivered: stats.callbacks.delivered,
      dropped: stats.callbacks.dropped,
      duplicated: stats.callbacks.duplicated,
      reordered: stats.callbacks.reordered,
      retried: stats.callbacks.retried,
      gaveUp: stats.callbacks.gaveUp,
    },
    callbackArrivals: arrivals,
    extraCallbackArrivals: extraArrivals,
    polls: { taskPolls, emulatorQueries: stats.requests.query, queryFaults: stats.faults.errors.query + stats.faults.hangs.query },
    emulatorTasks: {
      started: stats.tasks.started,
      stopped: stats.tasks.stopped,
      autoStopped: stats.tasks.autoStopped,
      finished: stats.tasks.finished,
    },
    timeToFinal: percentiles(delays),
    lost,
    unrecoverable,
    stuckPastDeadline: stuck,
    mismatches,
    durationMs: Date.now() - startedAt,
  };
}

/** The report as a two-column table, mismatches (at most `maxMismatches`) listed below it. */
export function formatChaosReport(report: ChaosReport, maxMismatches = 20): string {
  const seconds = (ms: number) => (Math.abs(ms) < MS_PER_SECOND ? `${Math.round(ms)} ms` : `${(ms / MS_PER_SECOND).toFixed(2)} s`);
  const reasons = Object.entries(report.tasks.byReason)
    .map(([reason, count]) => `${reason} ${count}`)
    .join(', ');
  const rows: [string, string][] = [
    ['classes (rooms)', String(report.classes)],
    ['recordings (starts made)', String(report.recordings)],
    ['  finished / failed', `${report.tasks.finished} / ${report.tasks.failed}${reasons ? ` (${reasons})` : ''}`],
    ['  start faults armed', `refused ${report.startFaultsArmed.refused}, unanswered ${report.startFaultsArmed.unanswered}, unanswered-but-started ${report.startFaultsArmed.unansweredButStarted}`],
    ['  POST retries, same key', String(report.postRetries)],
    ['callbacks produced', String(report.callbacks.produced)],
    ['callbacks sent (HTTP attempts)', String(report.callbacks.attempts)],
    ['  dropped', String(report.callbacks.dropped)],
    ['  duplicated', String(report.callbacks.duplicated)],
    ['  reordered', String(report.callbacks.reordered)],
    ['  retried / gave up', `${report.callbacks.retried} / ${report.callbacks.gaveUp}`],
    ['  arrivals counted by tasks (duplicates)', `${report.callbackArrivals} (${report.extraCallbackArrivals})`],
    ['polls: task polls (sum)', String(report.polls.taskPolls)],
    ['polls: emulator query requests', `${report.polls.emulatorQueries} (${report.polls.queryFaults} failed or hung by fault)`],
    ['emulator tasks started / stopped / idle-stopped', `${report.emulatorTasks.started} / ${report.emulatorTasks.stopped} / ${report.emulatorTasks.autoStopped}`],
    ['time to final state after vendor finished', `p50 ${seconds(report.timeToFinal.p50Ms)}, p95 ${seconds(report.timeToFinal.p95Ms)}, max ${seconds(report.timeToFinal.maxMs)} (n=${report.timeToFinal.count})`],
    ['unrecoverable by contract', String(report.unrecoverable)],
    ['stuck past deadline', String(report.stuckPastDeadline)],
    ['mismatches', String(report.mismatches.length)],
    ['LOST', String(report.lost)],
    ['wall time', seconds(report.durationMs)],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  const lines = rows.map(([name, value]) => `${name.padEnd(width)}  ${value}`);
  const rule = '-'.repeat(Math.max(...lines.map((line) => line.length)));
  const out = [rule, ...lines, rule];
  for (const mismatch of report.mismatches.slice(0, maxMismatches)) out.push(`MISMATCH ${mismatch}`);
  if (report.mismatches.length > maxMismatches) out.push(`... and ${report.mismatches.length - maxMismatches} more`);
  return out.join('\n');
}
