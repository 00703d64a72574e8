import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import {
  JavaNotFoundError,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  startDynamoDbLocal,
  startSqsLocal,
  type DynamoDbLocal,
  type LocalService,
} from '../../local/aws-services';

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

// These start their own services (besides the run's shared ones) to watch them stop.
describe('startDynamoDbLocal', () => {
  it('answers on its endpoint, and stop() ends the JVM', async () => {
    let dynamoLocal: DynamoDbLocal | undefined;
    try {
      dynamoLocal = await startDynamoDbLocal();
      const answering = new DynamoDBClient({ endpoint: dynamoLocal.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
      await expect(answering.send(new ListTablesCommand({}))).resolves.toMatchObject({ TableNames: [] });
      answering.destroy();
      expect(isRunning(dynamoLocal.pid)).toBe(true);

      await dynamoLocal.stop();

      expect(isRunning(dynamoLocal.pid)).toBe(false);
      const after = new DynamoDBClient({ endpoint: dynamoLocal.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
      await expect(after.send(new ListTablesCommand({}))).rejects.toThrow();
      after.destroy();
    } finally {
      await dynamoLocal?.stop();
    }
  });

  it('says plainly that Java is missing when java is not on PATH', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      const failure = startDynamoDbLocal();
      await expect(failure).rejects.toBeInstanceOf(JavaNotFoundError);
      await expect(failure).rejects.toThrow(/^Java runtime not found: DynamoDB Local needs java on PATH/);
    } finally {
      process.env.PATH = path;
    }
  });
});

describe('startSqsLocal', () => {
  it('answers on its endpoint until stopped', async () => {
    let sqsLocal: LocalService | undefined;
    try {
      sqsLocal = await startSqsLocal();
      const client = new SQSClient({ endpoint: sqsLocal.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
      await expect(client.send(new ListQueuesCommand({}))).resolves.toBeDefined();

      await sqsLocal.stop();

      await expect(client.send(new ListQueuesCommand({}))).rejects.toThrow();
      client.destroy();
    } finally {
      await sqsLocal?.stop();
    }
  });
});
