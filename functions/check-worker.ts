/**
 * The reconciler's worker: one check per SQS message (lib/recording/service.ts `runCheck`).
 *
 * Partial batch responses: a check that throws (an infrastructure failure) is reported as a
 * failed item and comes back after the visibility timeout; the others are deleted. A message
 * that is not a check message fails every time and ends in the DLQ, where an alarm sees it.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { logger } from '../lib/logger';
import { parseCheckMessage } from '../lib/recording/check-message';
import { recordingService } from '../lib/runtime';

const processor = new BatchProcessor(EventType.SQS);

async function checkOne(record: SQSRecord): Promise<void> {
  const parsed = parseCheckMessage(record.body);
  if (!parsed.ok) {
    logger.error('not a check message', { message_id: record.messageId, reason: parsed.reason });
    throw new Error(`not a check message: ${parsed.reason}`);
  }
  const { message } = parsed;
  const service = await recordingService({ tic: true });
  const result = await service.runCheck(message);
  logger.info('check done', {
    record_user_id: message.record_user_id,
    task_id: result.task?.taskId,
    room_id: result.task?.roomId,
    attempt: message.attempt,
    phase: message.phase,
    outcome: result.outcome,
    queried: result.queried,
    status: result.task?.status,
    receive_count: record.attributes.ApproximateReceiveCount,
  });
}

export const handler = middy<SQSEvent, SQSBatchResponse, Error, Context>(
  (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => processPartialResponse(event, checkOne, processor, { context }),
)
  .use(injectLambdaContext(logger, { resetKeys: true }));
