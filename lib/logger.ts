/**
 * The structured logger of every function (Powertools), with a redaction safety net.
 *
 * Code never logs a secret on purpose; this catches the accident: every secret value read
 * through lib/secrets.ts is registered here, and any string in a log record that contains
 * one is masked before it is written.
 */
import { Logger } from '@aws-lambda-powertools/logger';

const REDACTED = '[redacted]';
const MIN_SECRET_LENGTH_TO_REDACT = 6;
const secrets = new Set<string>();

/** Registers a secret value so that it never appears in a log line. */
export function registerSecret(value: string): void {
  if (value.length >= MIN_SECRET_LENGTH_TO_REDACT) secrets.add(value);
}

/** Masks every registered secret inside `text`. */
export function redact(text: string): string {
  let result = text;
  for (const secret of secrets) {
    if (result.includes(secret)) result = result.split(secret).join(REDACTED);
  }
  return result;
}

export const logger = new Logger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'tic-recording',
  jsonReplacerFn: (_key: string, value: unknown) => (typeof value === 'string' && secrets.size > 0 ? redact(value) : value),
});
