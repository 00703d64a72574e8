import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  provisionResources,
  readServerlessDefinition,
  SERVERLESS_YML_PATH,
  UnsupportedDefinitionError,
  type ProvisionedResources,
} from '../../local/resources';
import { provisionForTest, TEST_STAGE, useLocalAws, type LocalAws } from '../support/local-aws';

const WORKER_TIMEOUT_SECONDS = 30;
const FOURTEEN_DAYS_SECONDS = 14 * 24 * 60 * 60;

let localAws: LocalAws & ProvisionedResources;
let dynamo: DynamoDBClient;
let sqs: SQSClient;
let scratchDir: string;

beforeAll(async () => {
  localAws = await provisionForTest('local-resources');
  dynamo = new DynamoDBClient({ endpoint: localAws.dynamoEndpoint, region: localAws.region, credentials: localAws.credentials });
  sqs = new SQSClient({ endpoint: localAws.sqsEndpoint, region: localAws.region, credentials: localAws.credentials });
  scratchDir = mkdtempSync(path.join(tmpdir(), 'tic-resources-'));
});

afterAll(() => {
  dynamo?.destroy();
  sqs?.destroy();
  if (scratchDir) rmSync(scratchDir, { recursive: true, force: true });
});

describe('the tasks table created from serverless.yml', () => {
  it('is named for the stage, keyed by pk only, billed per request', async () => {
    expect(localAws.tableName).toMatch(/^tic-recording-test-tasks-local-resources-[0-9a-f]{6}$/);
    const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: localAws.tableName }));
    expect(Table?.KeySchema).toEqual([{ AttributeName: 'pk', KeyType: 'HASH' }]);
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    expect(Table?.AttributeDefinitions).toEqual(
      expect.arrayContaining([
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'room_id', AttributeType: 'N' },
        { AttributeName: 'created_at', AttributeType: 'S' },
        { AttributeName: 'task_id', AttributeType: 'S' },
        { AttributeName: 'open', AttributeType: 'S' },
        { AttributeName: 'next_check_at', AttributeType: 'N' },
      ]),
    );
  });

  it('has the three GSIs with their keys and projections', async () => {
    const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: localAws.tableName }));
    const indexes = Object.fromEntries(
      (Table?.GlobalSecondaryIndexes ?? []).map((index) => [
        index.IndexName,
        { keys: index.KeySchema, projection: index.Projection?.ProjectionType },
      ]),
    );
    expect(indexes).toEqual({
      'by-room': {
        keys: [
          { AttributeName: 'room_id', KeyType: 'HASH' },
          { AttributeName: 'created_at', KeyType: 'RANGE' },
        ],
        projection: 'KEYS_ONLY',
      },
      'by-task-id': { keys: [{ AttributeName: 'task_id', KeyType: 'HASH' }], projection: 'KEYS_ONLY' },
      'open-by-next-check': {
        keys: [
          { AttributeName: 'open', KeyType: 'HASH' },
          { AttributeName: 'next_check_at', KeyType: 'RANGE' },
        ],
        projection: 'KEYS_ONLY',
      },
    });
  });

  it('expires items by expires_at', async () => {
    const { TimeToLiveDescription } = await dynamo.send(new DescribeTimeToLiveCommand({ TableName: localAws.tableName }));
    expect(TimeToLiveDescription).toMatchObject({ AttributeName: 'expires_at', TimeToLiveStatus: 'ENABLED' });
  });
});

describe('the checks queues created from serverless.yml', () => {
  it('redrive to the DLQ after 5 receives, with a visibility timeout of at least 6 worker timeouts', async () => {
    const { Attributes: dlq } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: localAws.checkDlqUrl, AttributeNames: ['QueueArn', 'MessageRetentionPeriod'] }),
    );
    const { Attributes: queue } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: localAws.checkQueueUrl,
        AttributeNames: ['RedrivePolicy', 'VisibilityTimeout', 'MessageRetentionPeriod'],
      }),
    );
    expect(dlq?.QueueArn).toMatch(/:tic-recording-test-checks-dlq-local-resources-[0-9a-f]{6}$/);
    expect(JSON.parse(queue?.RedrivePolicy ?? '{}')).toEqual({ deadLetterTargetArn: dlq?.QueueArn, maxReceiveCount: 5 });
    expect(Number(queue?.VisibilityTimeout)).toBeGreaterThanOrEqual(6 * WORKER_TIMEOUT_SECONDS);
    expect(Number(queue?.MessageRetentionPeriod)).toBe(FOURTEEN_DAYS_SECONDS);
    expect(Number(dlq?.MessageRetentionPeriod)).toBe(FOURTEEN_DAYS_SECONDS);
  });
});

describe('provisioning again', () => {
  it('is a no-op: same names and URLs, and the data already there is kept', async () => {
    const nameSuffix = localAws.tableName.replace('tic-recording-test-tasks-', '');
    const item = { pk: { S: 'task#kept' }, room_id: { N: '7' } };
    await dynamo.send(new PutItemCommand({ TableName: localAws.tableName, Item: item }));

    const again = await provisionResources({
      dynamoEndpoint: localAws.dynamoEndpoint,
      sqsEndpoint: localAws.sqsEndpoint,
      region: localAws.region,
      stage: TEST_STAGE,
      nameSuffix,
    });

    expect(again).toEqual({
      tableName: localAws.tableName,
      checkQueueUrl: localAws.checkQueueUrl,
      checkDlqUrl: localAws.checkDlqUrl,
    });
    const { Item } = await dynamo.send(new GetItemCommand({ TableName: localAws.tableName, Key: { pk: item.pk } }));
    expect(Item).toEqual(item);
  });
});

describe('reading serverless.yml', () => {
  it('expands the CloudFormation short tags as osls does', () => {
    const { resources } = readServerlessDefinition();
    expect(resources.ChecksQueue?.Properties?.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': ['ChecksDlq', 'Arn'] },
      maxReceiveCount: 5,
    });
  });

  it('refuses a property it cannot reproduce locally instead of ignoring it', async () => {
    const altered = readFileSync(SERVERLESS_YML_PATH, 'utf8').replace(
      'BillingMode: PAY_PER_REQUEST',
      'BillingMode: PAY_PER_REQUEST\n        ImportSourceSpecification: {}',
    );
    const ymlPath = path.join(scratchDir, 'serverless.yml');
    writeFileSync(ymlPath, altered);
    const { dynamoEndpoint, sqsEndpoint, region } = useLocalAws();

    await expect(
      provisionResources({ dynamoEndpoint, sqsEndpoint, region, stage: TEST_STAGE, nameSuffix: 'refused', serverlessYmlPath: ymlPath }),
    ).rejects.toThrow(new UnsupportedDefinitionError('TasksTable: table property ImportSourceSpecification is not supported locally'));
  });

  it('refuses a Serverless variable it cannot resolve locally', async () => {
    const altered = readFileSync(SERVERLESS_YML_PATH, 'utf8').replace(
      'QueueName: ${self:service}-${sls:stage}-checks-dlq',
      "QueueName: ${env:DLQ_NAME, 'dlq'}",
    );
    const ymlPath = path.join(scratchDir, 'serverless-env.yml');
    writeFileSync(ymlPath, altered);
    const { dynamoEndpoint, sqsEndpoint, region } = useLocalAws();

    await expect(
      provisionResources({ dynamoEndpoint, sqsEndpoint, region, stage: TEST_STAGE, nameSuffix: 'refused-2', serverlessYmlPath: ymlPath }),
    ).rejects.toThrow(/\$\{env:DLQ_NAME, 'dlq'\} cannot be resolved locally/);
  });
});
