/**
 * The CheckQueue on SQS: one SendMessage per check, its delay clamped to what SQS allows.
 * The client is built once at module scope by the wiring and handed in.
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { serializeCheckMessage, type CheckMessage } from '../recording/check-message';
import type { CheckQueue } from '../recording/ports';
import { MAX_SQS_DELAY_SECONDS } from '../recording/settings';

export { parseCheckMessage, type ParsedCheckMessage } from '../recording/check-message';

/**
 * SQS's `DelaySeconds` for a wanted delay: whole seconds, rounded up (a check must not come
 * early), within 0..900.
 */
export function sqsDelaySeconds(delaySeconds: number): number {
  if (!Number.isFinite(delaySeconds) || delaySeconds <= 0) {
    return 0;
  }
  return Math.min(MAX_SQS_DELAY_SECONDS, Math.ceil(delaySeconds));
}

export class SqsCheckQueue implements CheckQueue {
  /** Messages sent, for the benchmark's "messages per recording". */
  sent = 0;

  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(message: CheckMessage, delaySeconds: number): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: serializeCheckMessage(message),
        DelaySeconds: sqsDelaySeconds(delaySeconds),
      }),
    );
    this.sent += 1;
  }
}
