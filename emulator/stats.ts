/** Counters behind `GET /_emulator/stats`. */
import { ENDPOINTS, type Endpoint } from './faults';

export interface EmulatorStats {
  /** Requests received per endpoint, whatever their outcome; `control` is /_emulator/*, `other` anything else. */
  requests: Record<Endpoint | 'control' | 'other', number>;
  /** Vendor-endpoint answers by `error_code` (hung calls have none). */
  answers: Record<string, number>;
  faults: { errors: Record<Endpoint, number>; hangs: Record<Endpoint, number> };
  callbacks: {
    /** Callbacks produced by the lifecycle (record_started, record_finished). */
    queued: number;
    /** HTTP attempts made, first tries, retries and duplicates included. */
    attempts: number;
    delivered: number;
    /** Attempts that did not get 2xx `{"error_code":0}`. */
    failedAttempts: number;
    retried: number;
    /** Callbacks abandoned after the last retry. */
    gaveUp: number;
    dropped: number;
    duplicated: number;
    reordered: number;
    /** Produced while no callback URL was set: nothing to send. */
    noUrl: number;
    /** Test requests sent when a callback URL was set. */
    testRequests: number;
  };
  tasks: { started: number; stopped: number; autoStopped: number; kickedOut: number; finished: number };
}

function perEndpoint(): Record<Endpoint, number> {
  return Object.fromEntries(ENDPOINTS.map((endpoint) => [endpoint, 0])) as Record<Endpoint, number>;
}

export function emptyStats(): EmulatorStats {
  return {
    requests: { ...perEndpoint(), control: 0, other: 0 },
    answers: {},
    faults: { errors: perEndpoint(), hangs: perEndpoint() },
    callbacks: {
      queued: 0,
      attempts: 0,
      delivered: 0,
      failedAttempts: 0,
      retried: 0,
      gaveUp: 0,
      dropped: 0,
      duplicated: 0,
      reordered: 0,
      noUrl: 0,
      testRequests: 0,
    },
    tasks: { started: 0, stopped: 0, autoStopped: 0, kickedOut: 0, finished: 0 },
  };
}
