import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqsCheckQueue, parseCheckMessage, sqsDelaySeconds } from '../../lib/adapters/sqs-check-queue';
import { MAX_SQS_DELAY_SECONDS } from '../../lib/recording/settings';
import { provisionForTest } from '../support/local-aws';

let sqs: SQSClient;
let queueUrl: string;

beforeAll(async () => {
  const local = await provisionForTest('sqs-check-queue');
  queueUrl = local.checkQueueUrl;
  sqs = new SQSClient({ endpoint: local.sqsEndpoint, region: local.region, credentials: local.credentials });
});

afterAll(() => {
  sqs?.destroy();
});

async function receiveAll(): Promise<string[]> {
  const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
  return Messages.map((message) => message.Body ?? '');
}

describe('sqsDelaySeconds', () => {
  it('rounds up to whole seconds and clamps to 0..900', () => {
    expect(sqsDelaySeconds(0)).toBe(0);
    expect(sqsDelaySeconds(-3)).toBe(0);
    expect(sqsDelaySeconds(Number.NaN)).toBe(0);
    expect(sqsDelaySeconds(0.2)).toBe(1);
    expect(sqsDelaySeconds(15)).toBe(15);
    expect(sqsDelaySeconds(5000)).toBe(MAX_SQS_DELAY_SECONDS);
  });
});

describe('SqsCheckQueue', () => {
  it('sends a check message that the worker parses back', async () => {
    const queue = new SqsCheckQueue(sqs, queueUrl);
    const message = { v: 1 as const, record_user_id: 'tic_record_user_42_abc', attempt: 3, phase: 'stop' as const };
    await queue.send(message, 0);
    const bodies = await receiveAll();
    expect(bodies.map(parseCheckMessage)).toEqual([{ ok: true, message }]);
    expect(queue.sent).toBe(1);
  });

  it('a delay beyond what SQS allows is sent clamped (not refused), and the message waits', async () => {
    // Real SQS refuses DelaySeconds above 900; fauxqs 1.9 accepts it, so the clamp itself is
    // proven by the unit test above and this one proves the delayed send and its wait.
    const queue = new SqsCheckQueue(sqs, queueUrl);
    await queue.send({ v: 1, record_user_id: 'tic_record_user_42_late', attempt: 1, phase: 'start' }, 5000);
    expect(queue.sent).toBe(1);
    expect(await receiveAll()).toEqual([]);
  });
});
