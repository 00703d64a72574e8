/**
 * Vitest global setup: ONE DynamoDB Local and ONE fauxqs for the whole test run,
 * on free ports, handed to test files through `inject()` (see local-aws.ts).
 * Each test file isolates itself with its own table and queue names.
 */
import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal, startSqsLocal } from '../../local/aws-services';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Endpoint of the run's DynamoDB Local (in memory, shared DB). */
    dynamoEndpoint: string;
    /** Endpoint of the run's fauxqs. */
    sqsEndpoint: string;
  }
}

/**
 * Starts the services and returns the teardown that stops them. If the run
 * dies before the teardown, the JVM is killed by the 'exit' hook that
 * startDynamoDbLocal installs; fauxqs lives in this process and dies with it.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [dynamo, sqs] = await Promise.allSettled([startDynamoDbLocal(), startSqsLocal()]);
  if (dynamo.status === 'rejected' || sqs.status === 'rejected') {
    await Promise.all([dynamo, sqs].map((started) => (started.status === 'fulfilled' ? started.value.stop() : undefined)));
    throw dynamo.status === 'rejected' ? dynamo.reason : (sqs as PromiseRejectedResult).reason;
  }
  project.provide('dynamoEndpoint', dynamo.value.endpoint);
  project.provide('sqsEndpoint', sqs.value.endpoint);
  return async () => {
    await Promise.all([dynamo.value.stop(), sqs.value.stop()]);
  };
}
