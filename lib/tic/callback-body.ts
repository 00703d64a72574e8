/**
 * Parsing the body of a callback from the TIC service (CONTRACT.md items 4 and 7).
 *
 * Parse strictly; if that fails, repair with `jsonrepair` (the document's own examples are
 * malformed: a trailing comma in 4.5.1, missing commas in 4.5.2); if that fails too, the
 * result is `invalid` with the raw text kept, so that the handler answers an error (the
 * service retries) and stores the body for inspection. A callback is never dropped silently.
 */
import { jsonrepair } from 'jsonrepair';
import { KNOWN_CALLBACK_TYPES, describeSchemaError, recordCallbackSchema } from './schemas';
import type { RecordCallback } from './wire';

/** Largest body we parse; anything larger is refused before parsing. */
export const MAX_CALLBACK_BODY_BYTES = 1024 * 1024;

export type ParsedCallback =
  /** A known `callback_type` whose fields validate. `repaired`: strict JSON failed and jsonrepair was needed. */
  | { kind: 'callback'; callback: RecordCallback; repaired: boolean }
  /** A JSON object with no known `callback_type`: the test request sent when the callback URL is set (CONTRACT.md item 7). */
  | { kind: 'probe'; repaired: boolean; body: unknown }
  /**
   * Not JSON even after repair, not an object, too large, or a known `callback_type` with a
   * missing or mistyped field (`reason` names it). `raw` is the body as received, whatever its
   * size: the caller truncates it if its store needs that.
   */
  | { kind: 'invalid'; reason: string; raw: string };

/** Parses and validates a callback body. Never throws. */
export function parseCallbackBody(raw: string): ParsedCallback {
  if (Buffer.byteLength(raw, 'utf8') > MAX_CALLBACK_BODY_BYTES) {
    return { kind: 'invalid', reason: `body larger than ${MAX_CALLBACK_BODY_BYTES} bytes`, raw };
  }
  const parsed = parseJson(raw);
  if (parsed === undefined) {
    return { kind: 'invalid', reason: 'body is not JSON, even after repair', raw };
  }
  const { value, repaired } = parsed;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { kind: 'invalid', reason: 'body is not a JSON object', raw };
  }
  const callbackType: unknown = (value as Record<string, unknown>).callback_type;
  if (typeof callbackType !== 'string' || !KNOWN_CALLBACK_TYPES.has(callbackType)) {
    return { kind: 'probe', repaired, body: value };
  }
  const result = recordCallbackSchema.safeParse(value);
  if (!result.success) {
    return { kind: 'invalid', reason: describeSchemaError(result.error), raw };
  }
  return { kind: 'callback', callback: result.data, repaired };
}

function parseJson(raw: string): { value: unknown; repaired: boolean } | undefined {
  try {
    return { value: JSON.parse(raw), repaired: false };
  } catch {
    // Fall through to the repair (CONTRACT.md item 4).
  }
  try {
    return { value: JSON.parse(jsonrepair(raw)), repaired: true };
  } catch {
    return undefined;
  }
}
