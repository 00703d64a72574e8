/**
 * Delivers SQS messages to a Lambda handler as the SQS event source mapping does, for the
 * local stack (`serverless-offline` runs HTTP events but not SQS ones; the
 * `serverless-offline-sqs` plugin depends on the end-of-support aws-sdk v2).
 *
 * What it keeps of Lambda's behaviour: batches of up to `batchSize` records shaped like
 * Lambda's `SQSEvent`; partial batch responses (`batchItemFailures`): the listed messages
 * are left on the queue and every other one is deleted; a handler that throws, or answers
 * an item id that is not in the batch, fails the whole batch; failed messages come back
 * after the queue's visibility timeout and, past `maxReceiveCount`, go to the DLQ by the
 * queue's own redrive policy. It does not extend visibility while a batch runs.
 */
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { Consumer } from 'sqs-consumer';

export interface SqsBridgeOptions {
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  region: string;
  /** Invokes the worker with a batch; resolves with its answer (or nothing, meaning all succeeded). */
  invoke: (event: SQSEvent) => Promise<SQSBatchResponse | void | null>;
  /** Lambda's default and maximum for standard queues without a batching window is 10. */
  batchSize?: number;
  /** Long-poll wait per receive, seconds. Small values make `stop()` quick. */
  waitTimeSeconds?: number;
  /** Called on every error of polling or of a batch (the bridge keeps going). */
  onError?: (error: Error) => void;
  /** Called after each batch with how many records were handed over and how many failed. */
  onBatch?: (stats: { records: number; failed: number }) => void;
}

export interface SqsBridge {
  stop(): Promise<void>;
}

/** The Lambda SQS record for a received message. */
export function toSqsRecord(message: Message, queueArn: string, region: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
        name,
        { dataType: value.DataType ?? 'String', stringValue: value.StringValue, stringListValues: [], binaryListValues: [] },
      ]),
    ),
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/**
 * Which messages of a batch to delete, given the handler's answer, by Lambda's rules for
 * `ReportBatchItemFailures`: an answer naming an id that is not in the batch fails it all.
 */
export function messagesToDelete(messages: readonly Message[], answer: SQSBatchResponse | void | null): Message[] {
  const failures = answer?.batchItemFailures ?? [];
  const ids = new Set(messages.map((message) => message.MessageId));
  const failed = new Set<string>();
  for (const failure of failures) {
    if (!failure.itemIdentifier || !ids.has(failure.itemIdentifier)) return [];
    failed.add(failure.itemIdentifier);
  }
  return messages.filter((message) => !failed.has(message.MessageId ?? ''));
}

/** Starts polling; `stop()` waits for the batch in hand to finish. */
export function startSqsBridge(options: SqsBridgeOptions): SqsBridge {
  const consumer = Consumer.create({
    sqs: options.sqs,
    queueUrl: options.queueUrl,
    batchSize: options.batchSize ?? 10,
    waitTimeSeconds: options.waitTimeSeconds ?? 1,
    // stop() waits for the batch in hand instead of abandoning it mid-invocation.
    pollingCompleteWaitTimeMs: 30_000,
    attributeNames: ['All'],
    messageAttributeNames: ['All'],
    // Returned messages are the ones deleted; none when the handler throws (Lambda's whole-batch failure).
    handleMessageBatch: async (messages) => {
      const event: SQSEvent = { Records: messages.map((message) => toSqsRecord(message, options.queueArn, options.region)) };
      const answer = await options.invoke(event);
      const toDelete = messagesToDelete(messages, answer);
      options.onBatch?.({ records: messages.length, failed: messages.length - toDelete.length });
      return toDelete;
    },
  });
  const report = (error: Error) => options.onError?.(error);
  consumer.on('error', report);
  consumer.on('processing_error', report);
  consumer.start();
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        if (!consumer.status.isRunning) return resolve();
        consumer.once('stopped', () => resolve());
        consumer.stop({ abort: false });
      }),
  };
}
