/**
 * The scheduled sweep: resumes the checks of open tasks whose next check is overdue (a check
 * message was lost, e.g. the worker died between its write and its send).
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { logger } from '../lib/logger';
import type { SweepResult } from '../lib/recording/service';
import { recordingService } from '../lib/runtime';

export const handler = middy<ScheduledEvent, SweepResult, Error, Context>(async () => {
  const service = await recordingService();
  const result = await service.sweep();
  logger.info('sweep done', { ...result });
  return result;
})
  .use(injectLambdaContext(logger, { resetKeys: true }));
