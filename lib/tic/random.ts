/**
 * The `random` query parameter of every request: a positive int32, new per request,
 * quoted to the vendor's support when a request is investigated (CONTRACT.md
 * "Authentication of every request").
 */
import { randomInt } from 'node:crypto';

/** Largest int32. */
export const MAX_RANDOM = 2_147_483_647;

/** A new random in 1..2147483647 (crypto.randomInt's upper bound is exclusive). */
export function newRandom(): number {
  return randomInt(1, MAX_RANDOM + 1);
}
