/**
 * Timings and limits of the recording domain, as named values with their units.
 *
 * Every value is injectable (`createRecordingService({ settings })`): tests scale the
 * delays down; the deployed wiring reads overrides from its configuration.
 */

/** SQS refuses a `DelaySeconds` above 15 minutes. */
export const MAX_SQS_DELAY_SECONDS = 900;

const SECONDS_PER_MINUTE = 60;
const SECONDS_PER_HOUR = 3600;
const SECONDS_PER_DAY = 86_400;

export interface RecordingSettings {
  /**
   * First check after `start`: the vendor begins recording ~2 s after `start` (CONTRACT.md
   * "Flow" 3), and `record_started` needs a few more seconds to reach us.
   */
  startCheckDelaySeconds: number;
  /** First check after `stop`: recording ends ~2 s after `stop`, then the files are processed. */
  stopCheckDelaySeconds: number;
  /** Each further check of a phase waits this many times longer than the previous one (capped at 900 s). */
  checkBackoffFactor: number;
  /**
   * How long after `start` we wait for the recording to begin. At least the vendor's callback
   * retry window (10 retries, one a minute) so that a late `record_started` can still save an
   * unanswered `start`.
   */
  startDeadlineSeconds: number;
  /**
   * How long after `stop` (or after a long class's maximum duration) we wait for the result:
   * the vendor retries callbacks for ~10 minutes and processing a long class takes a while.
   */
  finishDeadlineSeconds: number;
  /**
   * The longest class we expect. A task still `recording` this long after it began gets
   * queried again (the vendor auto-stops a room without uplink, so a class nobody stopped is
   * eventually over) and fails at this plus `finishDeadlineSeconds`.
   */
  maxRecordingSeconds: number;
  /** A check this late is taken as lost and re-enqueued by the sweep. */
  sweepGraceSeconds: number;
  /** How long a terminal task is kept (DynamoDB TTL). */
  retentionSeconds: number;
  /** How long an idempotency key is remembered. */
  idempotencyRetentionSeconds: number;
  /**
   * Life of the UserSig we make for the recorder. An expired sig makes the recording fail
   * (CONTRACT.md "Flow" 2), so it outlives the longest class.
   */
  userSigLifetimeSeconds: number;
}

export const DEFAULT_RECORDING_SETTINGS: Readonly<RecordingSettings> = {
  startCheckDelaySeconds: 10,
  stopCheckDelaySeconds: 15,
  checkBackoffFactor: 2,
  startDeadlineSeconds: 15 * SECONDS_PER_MINUTE,
  finishDeadlineSeconds: SECONDS_PER_HOUR,
  maxRecordingSeconds: 8 * SECONDS_PER_HOUR,
  sweepGraceSeconds: 2 * SECONDS_PER_MINUTE,
  retentionSeconds: 180 * SECONDS_PER_DAY,
  idempotencyRetentionSeconds: SECONDS_PER_DAY,
  userSigLifetimeSeconds: 9 * SECONDS_PER_HOUR,
};

/**
 * The defaults with `overrides` applied, checked: every value a finite number ≥ 0, the
 * backoff factor ≥ 1, the UserSig outliving the longest class. Throws naming the setting.
 */
export function resolveSettings(overrides: Partial<RecordingSettings> = {}): RecordingSettings {
  const settings: RecordingSettings = { ...DEFAULT_RECORDING_SETTINGS, ...overrides };
  for (const [name, value] of Object.entries(settings)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new Error(`recording setting ${name} must be a finite number >= 0`);
    }
  }
  if (settings.checkBackoffFactor < 1) {
    throw new Error('recording setting checkBackoffFactor must be >= 1');
  }
  if (settings.userSigLifetimeSeconds < settings.maxRecordingSeconds) {
    throw new Error('recording setting userSigLifetimeSeconds must be >= maxRecordingSeconds');
  }
  return settings;
}
