import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startSqsLocal, type LocalService } from '../../local/aws-services';
import { messagesToDelete, startSqsBridge } from '../../local/sqs-bridge';

let sqsLocal: LocalService;
let sqs: SQSClient;

async function createQueues(name: string, visibilitySeconds: number, maxReceiveCount: number) {
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
  const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn;
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: String(visibilitySeconds),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount }),
      },
    }),
  );
  const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queue.QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn;
  return { queueUrl: queue.QueueUrl!, queueArn: arn!, dlqUrl: dlq.QueueUrl! };
}

async function waitFor(condition: () => boolean, timeoutMs = 15_000) {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  sqsLocal = await startSqsLocal();
  sqs = new SQSClient({ endpoint: sqsLocal.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
});

afterAll(async () => {
  sqs?.destroy();
  await sqsLocal?.stop();
});

describe('messagesToDelete (Lambda ReportBatchItemFailures rules)', () => {
  const batch = [{ MessageId: 'a' }, { MessageId: 'b' }, { MessageId: 'c' }];
  it('deletes everything on an empty or missing answer', () => {
    expect(messagesToDelete(batch, undefined)).toHaveLength(3);
    expect(messagesToDelete(batch, { batchItemFailures: [] })).toHaveLength(3);
  });
  it('keeps the listed failures', () => {
    expect(messagesToDelete(batch, { batchItemFailures: [{ itemIdentifier: 'b' }] }).map((m) => m.MessageId)).toEqual(['a', 'c']);
  });
  it('fails the whole batch on an unknown or empty item id', () => {
    expect(messagesToDelete(batch, { batchItemFailures: [{ itemIdentifier: 'zzz' }] })).toEqual([]);
    expect(messagesToDelete(batch, { batchItemFailures: [{ itemIdentifier: '' }] })).toEqual([]);
  });
});

describe('startSqsBridge against fauxqs', () => {
  it('hands over Lambda-shaped records, deletes successes and redelivers failures until the DLQ takes them', async () => {
    const { queueUrl, queueArn, dlqUrl } = await createQueues('bridge-partial', 1, 2);
    for (const body of ['ok-1', 'poison', 'ok-2']) {
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    }
    const seen: Record<string, number> = {};
    let lastEvent: SQSEvent | undefined;
    const bridge = startSqsBridge({
      sqs,
      queueUrl,
      queueArn,
      region: LOCAL_REGION,
      waitTimeSeconds: 1,
      invoke: async (event) => {
        lastEvent = event;
        for (const record of event.Records) seen[record.body] = (seen[record.body] ?? 0) + 1;
        return { batchItemFailures: event.Records.filter((r) => r.body === 'poison').map((r) => ({ itemIdentifier: r.messageId })) };
      },
    });
    try {
      await waitFor(() => (seen.poison ?? 0) >= 2);
      // Past maxReceiveCount the queue's redrive moves it to the DLQ on the next receive.
      let inDlq = 0;
      const started = Date.now();
      while (inDlq === 0 && Date.now() - started < 15_000) {
        const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, WaitTimeSeconds: 1 }));
        inDlq = received.Messages?.filter((m) => m.Body === 'poison').length ?? 0;
      }
      expect(inDlq).toBe(1);
      expect(seen['ok-1']).toBe(1);
      expect(seen['ok-2']).toBe(1);
      expect(lastEvent?.Records[0]).toMatchObject({ eventSource: 'aws:sqs', eventSourceARN: queueArn, awsRegion: LOCAL_REGION });
      expect(Number(lastEvent?.Records[0]?.attributes.ApproximateReceiveCount)).toBeGreaterThanOrEqual(1);
    } finally {
      await bridge.stop();
    }
  });

  it('leaves the whole batch on the queue when the handler throws', async () => {
    const { queueUrl, queueArn } = await createQueues('bridge-throw', 1, 10);
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'x' }));
    let calls = 0;
    const bridge = startSqsBridge({
      sqs,
      queueUrl,
      queueArn,
      region: LOCAL_REGION,
      onError: () => undefined,
      invoke: async () => {
        calls += 1;
        if (calls === 1) throw new Error('worker crashed');
      },
    });
    try {
      await waitFor(() => calls >= 2);
      expect(calls).toBe(2);
    } finally {
      await bridge.stop();
    }
  });
});
