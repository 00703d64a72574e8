/**
 * Fault switches: make endpoints fail or hang and callbacks go missing, twice, late or
 * out of order, on demand (`...Next` counters) or by chance (`...Rate`, seeded).
 *
 * Set through `POST /_emulator/faults` (merged into the current switches), cleared with
 * `DELETE`, read with `GET`. See emulator/README.md "Fault switches".
 */
import { z } from 'zod';

export const ENDPOINTS = ['start', 'stop', 'query', 'callback'] as const;
export type Endpoint = (typeof ENDPOINTS)[number];

const rate = z.number().min(0).max(1);
const count = z.number().int().min(0);

const endpointFaultsSchema = z.strictObject({
  /** The next N calls answer 20099. */
  errorNext: count.optional(),
  /** The next N calls are never answered (the socket is held until the client gives up). */
  hangNext: count.optional(),
  errorRate: rate.optional(),
  hangRate: rate.optional(),
  /** The call takes effect (task created, stopped...) before the fault replaces its answer. */
  afterEffect: z.boolean().optional(),
});

const callbackFaultsSchema = z.strictObject({
  /** A callback is never delivered: no attempt at all. */
  dropRate: rate.optional(),
  dropNext: count.optional(),
  /** A delivered callback is sent a second time. */
  duplicateRate: rate.optional(),
  duplicateNext: count.optional(),
  /** A `record_started` is held back until the task's `record_finished` has gone out. */
  reorderRate: rate.optional(),
  reorderNext: count.optional(),
  /** Fixed extra delay before the first attempt of every callback. */
  delayMs: count.optional(),
});

/** The body of `POST /_emulator/faults`; every part optional, merged into the current switches. */
export const faultsPatchSchema = z.strictObject({
  start: endpointFaultsSchema.optional(),
  stop: endpointFaultsSchema.optional(),
  query: endpointFaultsSchema.optional(),
  callback: endpointFaultsSchema.optional(),
  callbacks: callbackFaultsSchema.optional(),
});

export type FaultsPatch = z.infer<typeof faultsPatchSchema>;
export type EndpointFaults = Required<z.infer<typeof endpointFaultsSchema>>;
export type CallbackFaults = Required<z.infer<typeof callbackFaultsSchema>>;
export type Faults = Record<Endpoint, EndpointFaults> & { callbacks: CallbackFaults };

/** What an endpoint call does under the current switches. */
export type EndpointFault = { kind: 'none' } | { kind: 'error' | 'hang'; afterEffect: boolean };

/** What happens to one callback under the current switches. */
export interface CallbackFate {
  drop: boolean;
  duplicate: boolean;
  /** Only ever true for `record_started`. */
  holdUntilFinished: boolean;
  delayMs: number;
}

function noEndpointFaults(): EndpointFaults {
  return { errorNext: 0, hangNext: 0, errorRate: 0, hangRate: 0, afterEffect: false };
}

function noCallbackFaults(): CallbackFaults {
  return { dropRate: 0, dropNext: 0, duplicateRate: 0, duplicateNext: 0, reorderRate: 0, reorderNext: 0, delayMs: 0 };
}

/** mulberry32: small, fast and good enough for fault dice; the same seed replays the same faults. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The current switches and the dice; one per emulator. */
export class FaultBoard {
  private faults: Faults = FaultBoard.none();
  private random: () => number;

  constructor(private readonly seed: number) {
    this.random = seededRandom(seed);
  }

  static none(): Faults {
    return {
      start: noEndpointFaults(),
      stop: noEndpointFaults(),
      query: noEndpointFaults(),
      callback: noEndpointFaults(),
      callbacks: noCallbackFaults(),
    };
  }

  /** A copy of the current switches, with the `...Next` counters as they stand now. */
  current(): Faults {
    return structuredClone(this.faults);
  }

  apply(patch: FaultsPatch): void {
    for (const endpoint of ENDPOINTS) {
      const part = patch[endpoint];
      if (part) Object.assign(this.faults[endpoint], part);
    }
    if (patch.callbacks) Object.assign(this.faults.callbacks, patch.callbacks);
  }

  /** Clears every switch and restarts the dice from the seed. */
  clear(): void {
    this.faults = FaultBoard.none();
    this.random = seededRandom(this.seed);
  }

  /** Decides, and consumes a `...Next` counter if one applies: hang before error. */
  forEndpoint(endpoint: Endpoint): EndpointFault {
    const switches = this.faults[endpoint];
    const afterEffect = switches.afterEffect;
    if (switches.hangNext > 0) {
      switches.hangNext -= 1;
      return { kind: 'hang', afterEffect };
    }
    if (switches.errorNext > 0) {
      switches.errorNext -= 1;
      return { kind: 'error', afterEffect };
    }
    if (this.roll(switches.hangRate)) return { kind: 'hang', afterEffect };
    if (this.roll(switches.errorRate)) return { kind: 'error', afterEffect };
    return { kind: 'none' };
  }

  forCallback(callbackType: string): CallbackFate {
    const switches = this.faults.callbacks;
    const drop = this.take(switches, 'dropNext') || this.roll(switches.dropRate);
    const duplicate = !drop && (this.take(switches, 'duplicateNext') || this.roll(switches.duplicateRate));
    const holdUntilFinished =
      !drop && callbackType === 'record_started' && (this.take(switches, 'reorderNext') || this.roll(switches.reorderRate));
    return { drop, duplicate, holdUntilFinished, delayMs: switches.delayMs };
  }

  private take(switches: CallbackFaults, counter: 'dropNext' | 'duplicateNext' | 'reorderNext'): boolean {
    if (switches[counter] <= 0) return false;
    switches[counter] -= 1;
    return true;
  }

  /** A rate of 0 never consumes a number, so switching one fault on does not shift the others' dice. */
  private roll(probability: number): boolean {
    return probability > 0 && this.random() < probability;
  }
}
