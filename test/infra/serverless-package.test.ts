/**
 * Packages the service as a deploy would (`sls package`), with no AWS account,
 * and reads what would be deployed: the CloudFormation template and the zips.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SERVICE_DIR = fileURLToPath(new URL('../..', import.meta.url));
const SLS_BIN = path.join(SERVICE_DIR, 'node_modules', 'osls', 'bin', 'serverless.js');
const STAGE = 'test';
const PACKAGE_TIMEOUT_MS = 240_000;
// A function's bundle with its tree-shaken AWS SDK is ~565 KB (BENCHMARKS.md); this bound
// catches a heavy dependency slipping in (classic zod alone would add ~400 KB).
const MAX_BUNDLE_SIZE_BYTES = 650 * 1024;
// Values a careless serverless.yml could copy from the environment into the template.
const CANARY_SECRET = `canary-${randomBytes(8).toString('hex')}`;

interface CfnResource {
  Type: string;
  Properties: Record<string, any>;
  DependsOn?: string | string[];
  DeletionPolicy?: string;
}

const FUNCTIONS = {
  StartRecording: { file: 'start-recording', name: 'startRecording' },
  StopRecording: { file: 'stop-recording', name: 'stopRecording' },
  GetRecording: { file: 'get-recording', name: 'getRecording' },
  ListRoomRecordings: { file: 'list-room-recordings', name: 'listRoomRecordings' },
  TicCallback: { file: 'tic-callback', name: 'ticCallback' },
  CheckWorker: { file: 'check-worker', name: 'checkWorker' },
  Sweep: { file: 'sweep', name: 'sweep' },
} as const;
type FunctionId = keyof typeof FUNCTIONS;

let packageDir: string;
let resources: Record<string, CfnResource>;

function resource(logicalId: string): CfnResource {
  const found = resources[logicalId];
  if (found === undefined) throw new Error(`no resource ${logicalId} in the template`);
  return found;
}

function lambda(id: FunctionId): CfnResource {
  return resource(`${id}LambdaFunction`);
}

beforeAll(async () => {
  packageDir = mkdtempSync(path.join(tmpdir(), 'tic-sls-package-'));
  // No credentials, no profile, no instance metadata: packaging must need no AWS account.
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('AWS_') && !key.startsWith('TIC_')) env[key] = value;
  }
  Object.assign(env, {
    AWS_ACCESS_KEY_ID: '',
    AWS_SECRET_ACCESS_KEY: '',
    AWS_SESSION_TOKEN: '',
    AWS_CONFIG_FILE: path.join(packageDir, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(packageDir, 'no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    TIC_KEY: CANARY_SECRET,
    TIC_USERSIG_SECRET_KEY: CANARY_SECRET,
    API_TOKENS: CANARY_SECRET,
    CALLBACK_SECRET: CANARY_SECRET,
    // Our own build folder: never the one a running `npm start` uses.
    ESBUILD_WORK_FOLDER: path.join('.esbuild', `package-test-${process.pid}-${randomBytes(3).toString('hex')}`),
  });
  try {
    await promisify(execFile)(process.execPath, [SLS_BIN, 'package', '--stage', STAGE, '--package', packageDir], {
      cwd: SERVICE_DIR,
      env,
      timeout: PACKAGE_TIMEOUT_MS,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    // osls writes its errors to stdout: show them, not just "Command failed".
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`sls package failed:\n${stdout}\n${stderr}`);
  }
  const template = JSON.parse(readFileSync(path.join(packageDir, 'cloudformation-template-update-stack.json'), 'utf8'));
  resources = template.Resources;
}, PACKAGE_TIMEOUT_MS + 10_000);

afterAll(() => {
  if (packageDir) rmSync(packageDir, { recursive: true, force: true });
});

describe('the tasks table', () => {
  it('is kept on stack deletion, billed per request, keyed by pk, with TTL and PITR', () => {
    const table = resource('TasksTable');
    expect(table.Type).toBe('AWS::DynamoDB::Table');
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.Properties).toMatchObject({
      TableName: 'tic-recording-test-tasks',
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  it('has the by-room, by-task-id and sparse open-by-next-check indexes', () => {
    const indexes = Object.fromEntries(
      resource('TasksTable').Properties.GlobalSecondaryIndexes.map((index: any) => [
        index.IndexName,
        [index.KeySchema.map((key: any) => `${key.AttributeName}:${key.KeyType}`), index.Projection.ProjectionType],
      ]),
    );
    expect(indexes).toEqual({
      'by-room': [['room_id:HASH', 'created_at:RANGE'], 'KEYS_ONLY'],
      'by-task-id': [['task_id:HASH'], 'KEYS_ONLY'],
      'open-by-next-check': [['open:HASH', 'next_check_at:RANGE'], 'KEYS_ONLY'],
    });
  });
});

describe('the checks queue', () => {
  it('redrives to the DLQ after 5 receives and outlasts 6 worker timeouts plus the batching window', () => {
    const queue = resource('ChecksQueue').Properties;
    const mapping = resource('CheckWorkerEventSourceMappingSQSChecksQueue').Properties;
    expect(queue.RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': ['ChecksDlq', 'Arn'] }, maxReceiveCount: 5 });
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(
      6 * lambda('CheckWorker').Properties.Timeout + mapping.MaximumBatchingWindowInSeconds,
    );
    expect(queue.MessageRetentionPeriod).toBe(1_209_600);
    expect(resource('ChecksDlq').Properties.MessageRetentionPeriod).toBe(1_209_600);
  });

  it('has an alarm on the DLQ depth and one on tasks failed by deadline', () => {
    expect(resource('ChecksDlqNotEmptyAlarm').Properties).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['ChecksDlq', 'QueueName'] } }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(resource('TasksFailedByDeadlineAlarm').Properties).toMatchObject({
      Namespace: 'TicRecording',
      MetricName: 'TasksFailedByDeadline',
      // Must match what Powertools metrics emits: its `service` dimension.
      Dimensions: [{ Name: 'service', Value: lambda('Sweep').Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });
});

describe('the functions', () => {
  it('run Node 22 on arm64 with 512 MB and the timeouts of their work', () => {
    const timeouts = Object.fromEntries(
      (Object.keys(FUNCTIONS) as FunctionId[]).map((id) => {
        expect(lambda(id).Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], MemorySize: 512 });
        return [id, lambda(id).Properties.Timeout];
      }),
    );
    expect(timeouts).toEqual({
      StartRecording: 20,
      StopRecording: 25,
      GetRecording: 10,
      ListRoomRecordings: 10,
      TicCallback: 10,
      CheckWorker: 30,
      Sweep: 60,
    });
    for (const id of Object.keys(FUNCTIONS)) {
      expect(resource(`${id}LogGroup`).Properties.RetentionInDays).toBe(14);
    }
  });

  it('answer these HTTP API routes, with payload 2.0', () => {
    const routes: Record<string, string> = {};
    for (const route of Object.values(resources).filter((r) => r.Type === 'AWS::ApiGatewayV2::Route')) {
      const integrationId = route.Properties.Target['Fn::Join'][1][1].Ref as string;
      const integration = resource(integrationId).Properties;
      expect(integration.PayloadFormatVersion).toBe('2.0');
      routes[route.Properties.RouteKey] = integration.IntegrationUri['Fn::GetAtt'][0];
    }
    expect(routes).toEqual({
      'POST /recordings': 'StartRecordingLambdaFunction',
      'POST /recordings/{id}/stop': 'StopRecordingLambdaFunction',
      'GET /recordings/{id}': 'GetRecordingLambdaFunction',
      'GET /rooms/{roomId}/recordings': 'ListRoomRecordingsLambdaFunction',
      'POST /tic/callback/{secret}': 'TicCallbackLambdaFunction',
    });
  });

  it('feed the check worker from the checks queue in batches with partial failures, throttled by the event source', () => {
    const mappings = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping');
    expect(mappings.map((mapping) => mapping.Properties)).toEqual([
      expect.objectContaining({
        EventSourceArn: { 'Fn::GetAtt': ['ChecksQueue', 'Arn'] },
        FunctionName: { 'Fn::GetAtt': ['CheckWorkerLambdaFunction', 'Arn'] },
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: 5 },
      }),
    ]);
    expect(mappings[0]?.Properties.MaximumBatchingWindowInSeconds).toBeLessThanOrEqual(1);
    // Reserved concurrency would make throttled receives push good messages to the DLQ.
    expect(lambda('CheckWorker').Properties.ReservedConcurrentExecutions).toBeUndefined();
  });

  it('run the sweep every 5 minutes', () => {
    const rules = Object.values(resources).filter((r) => r.Type === 'AWS::Events::Rule');
    expect(rules.map((rule) => [rule.Properties.ScheduleExpression, rule.Properties.Targets[0].Arn])).toEqual([
      ['rate(5 minutes)', { 'Fn::GetAtt': ['SweepLambdaFunction', 'Arn'] }],
    ]);
  });

  it('carry setting and secret NAMES in their environment, never secret values', () => {
    const template = JSON.stringify(resources);
    expect(template).not.toContain(CANARY_SECRET);
    expect(template).not.toMatch(/resolve:ssm/);
    const ymlWithoutComments = readFileSync(path.join(SERVICE_DIR, 'serverless.yml'), 'utf8')
      .split('\n')
      .filter((line) => !line.trimStart().startsWith('#'));
    expect(ymlWithoutComments.join('\n')).not.toMatch(/\$\{ssm:/);
    for (const id of Object.keys(FUNCTIONS) as FunctionId[]) {
      expect(lambda(id).Properties.Environment.Variables).toEqual({
        TABLE_NAME: { Ref: 'TasksTable' },
        CHECK_QUEUE_URL: { Ref: 'ChecksQueue' },
        TIC_BASE_URL: 'https://iclass.api.qcloud.com',
        TIC_SDKAPPID: '',
        SSM_PREFIX: '/tic-recording/test',
        POWERTOOLS_SERVICE_NAME: 'tic-recording-test',
        POWERTOOLS_METRICS_NAMESPACE: 'TicRecording',
        LOG_LEVEL: 'INFO',
      });
    }
  });
});

/**
 * Names a policy resource by what it points at ("table", "index:by-room",
 * "queue", "param:tic-key", "log:startRecording", "kms-via-ssm"), or returns
 * it as JSON when it is anything else, so that a widened scope shows in the diff.
 */
function scopeOf(statement: any, resourceValue: unknown): string {
  const json = JSON.stringify(resourceValue);
  if (json === JSON.stringify({ 'Fn::GetAtt': ['TasksTable', 'Arn'] })) return 'table';
  if (json === JSON.stringify({ 'Fn::GetAtt': ['ChecksQueue', 'Arn'] })) return 'queue';
  const sub = (resourceValue as { 'Fn::Sub'?: unknown })?.['Fn::Sub'];
  if (typeof sub === 'string') {
    const index = /^\$\{TasksTable\.Arn\}\/index\/([\w-]+)$/.exec(sub);
    if (index) return `index:${index[1]}`;
    const param = /^arn:\$\{AWS::Partition\}:ssm:\$\{AWS::Region\}:\$\{AWS::AccountId\}:parameter\/tic-recording\/test\/([\w-]+)$/.exec(sub);
    if (param) return `param:${param[1]}`;
    const log =
      /^arn:\$\{AWS::Partition\}:logs:\$\{AWS::Region\}:\$\{AWS::AccountId\}:log-group:\/aws\/lambda\/tic-recording-test-(\w+):\*$/.exec(sub);
    if (log) return `log:${log[1]}`;
    if (
      sub === 'arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*' &&
      JSON.stringify(statement.Condition) ===
        JSON.stringify({ StringEquals: { 'kms:ViaService': { 'Fn::Sub': 'ssm.${AWS::Region}.amazonaws.com' } } })
    ) {
      return 'kms-via-ssm';
    }
  }
  return json;
}

/** action -> sorted scopes, over all statements of the function's own role. */
function accessOf(id: FunctionId): Record<string, string[]> {
  const roleRef = lambda(id).Properties.Role;
  expect(roleRef).toEqual({ 'Fn::GetAtt': [`${id}Role`, 'Arn'] });
  const role = resource(`${id}Role`);
  expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
    { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
  ]);
  expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  const access: Record<string, string[]> = {};
  for (const policy of role.Properties.Policies) {
    for (const statement of policy.PolicyDocument.Statement) {
      expect(statement.Effect).toBe('Allow');
      const actions: string[] = [statement.Action].flat();
      const scopes = [statement.Resource].flat().map((value: unknown) => scopeOf(statement, value));
      for (const action of actions) access[action] = [...(access[action] ?? []), ...scopes].sort();
    }
  }
  return access;
}

const LOGS = (name: string) => ({ 'logs:CreateLogStream': [`log:${name}`], 'logs:PutLogEvents': [`log:${name}`] });
const SSM = (...names: string[]) => {
  const scopes = names.map((name) => `param:${name}`).sort();
  return { 'ssm:GetParameter': scopes, 'ssm:GetParameters': scopes, 'kms:Decrypt': ['kms-via-ssm'] };
};

describe('each function has its own least-privilege role', () => {
  it('grants exactly these actions on exactly these resources', () => {
    const access = Object.fromEntries((Object.keys(FUNCTIONS) as FunctionId[]).map((id) => [id, accessOf(id)]));
    expect(access).toEqual({
      StartRecording: {
        ...LOGS('startRecording'),
        'dynamodb:PutItem': ['table'],
        'dynamodb:UpdateItem': ['table'],
        'dynamodb:GetItem': ['table'],
        'sqs:SendMessage': ['queue'],
        ...SSM('tic-key', 'usersig-secret-key', 'api-tokens'),
      },
      StopRecording: {
        ...LOGS('stopRecording'),
        'dynamodb:GetItem': ['table'],
        'dynamodb:UpdateItem': ['table'],
        'dynamodb:Query': ['index:by-task-id'],
        'sqs:SendMessage': ['queue'],
        ...SSM('tic-key', 'api-tokens'),
      },
      GetRecording: {
        ...LOGS('getRecording'),
        'dynamodb:GetItem': ['table'],
        'dynamodb:Query': ['index:by-task-id'],
        ...SSM('api-tokens'),
      },
      ListRoomRecordings: {
        ...LOGS('listRoomRecordings'),
        'dynamodb:Query': ['index:by-room'],
        'dynamodb:BatchGetItem': ['table'],
        ...SSM('api-tokens'),
      },
      TicCallback: {
        ...LOGS('ticCallback'),
        'dynamodb:GetItem': ['table'],
        'dynamodb:UpdateItem': ['table'],
        ...SSM('tic-key', 'callback-secret'),
      },
      CheckWorker: {
        ...LOGS('checkWorker'),
        'dynamodb:GetItem': ['table'],
        'dynamodb:UpdateItem': ['table'],
        'sqs:SendMessage': ['queue'],
        'sqs:ReceiveMessage': ['queue'],
        'sqs:DeleteMessage': ['queue'],
        'sqs:GetQueueAttributes': ['queue'],
        ...SSM('tic-key'),
      },
      Sweep: {
        ...LOGS('sweep'),
        'dynamodb:GetItem': ['table'],
        'dynamodb:UpdateItem': ['table'],
        'dynamodb:Query': ['index:open-by-next-check'],
        'sqs:SendMessage': ['queue'],
      },
    });
  });

  it('leaves no shared default role and no IAM resource "*" in the template', () => {
    expect(resources.IamRoleLambdaExecution).toBeUndefined();
    const roles = Object.values(resources).filter((r) => r.Type === 'AWS::IAM::Role');
    expect(roles).toHaveLength(Object.keys(FUNCTIONS).length);
    expect(JSON.stringify(roles)).not.toMatch(/"Resource":\s*(\[\s*)?"\*"/);
  });
});

/** Entries of a zip file, from its central directory: name and uncompressed size. */
function zipEntries(zipPath: string): { name: string; sizeBytes: number }[] {
  const zip = readFileSync(zipPath);
  const endOfCentralDirectory = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (endOfCentralDirectory < 0) throw new Error(`${zipPath} is not a zip`);
  const count = zip.readUInt16LE(endOfCentralDirectory + 10);
  let offset = zip.readUInt32LE(endOfCentralDirectory + 16);
  const entries: { name: string; sizeBytes: number }[] = [];
  for (let i = 0; i < count; i += 1) {
    if (zip.readUInt32LE(offset) !== 0x02014b50) throw new Error(`${zipPath}: bad central directory`);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    entries.push({
      name: zip.toString('utf8', offset + 46, offset + 46 + nameLength),
      sizeBytes: zip.readUInt32LE(offset + 24),
    });
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

describe('the function packages', () => {
  it.each(Object.entries(FUNCTIONS))('%s ships one minified ESM bundle within the size budget', (id, { file, name }) => {
    const zipPath = path.join(packageDir, `${name}.zip`);
    expect(existsSync(zipPath)).toBe(true);
    expect(lambda(id as FunctionId).Properties.Handler).toBe(`functions/${file}.handler`);
    expect(lambda(id as FunctionId).Properties.Code.S3Key).toMatch(new RegExp(`/${name}\\.zip$`));

    const entries = zipEntries(zipPath);

    // One self-contained file: the SDK is bundled, so no node_modules; no source map.
    expect(entries.map((entry) => entry.name)).toEqual([`functions/${file}.mjs`]);
    expect(entries[0]?.sizeBytes).toBeLessThanOrEqual(MAX_BUNDLE_SIZE_BYTES);
  });
});
