/**
 * Creates, in DynamoDB Local and fauxqs, the DynamoDB tables and SQS queues that
 * serverless.yml declares, from the very same CloudFormation definitions: there
 * is no second, hand-written copy of the table or the queues to drift apart.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { LOCAL_CREDENTIALS } from './aws-services';

/** serverless.yml at the root of the repository. */
export const SERVERLESS_YML_PATH = fileURLToPath(new URL('../serverless.yml', import.meta.url));

/** Logical ids, in serverless.yml, of the resources the backend needs. */
export const LOGICAL_IDS = { table: 'TasksTable', checkQueue: 'ChecksQueue', checkDlq: 'ChecksDlq' } as const;

/** Options of {@link provisionResources}. */
export interface ProvisionOptions {
  dynamoEndpoint: string;
  sqsEndpoint: string;
  /** Region the SQS client signs with; fauxqs scopes queues (and their ARNs) by it. */
  region: string;
  /** Stands for `${sls:stage}` / `${opt:stage}` in resource names. */
  stage: string;
  /** Appended to every table and queue name (`-<suffix>`) to isolate a test file. */
  nameSuffix?: string;
  /** Defaults to the repository's serverless.yml. */
  serverlessYmlPath?: string;
}

/** What the backend's configuration needs to reach the provisioned resources. */
export interface ProvisionedResources {
  tableName: string;
  checkQueueUrl: string;
  checkDlqUrl: string;
}

/** A CloudFormation resource as written in serverless.yml (short intrinsic tags expanded). */
export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  [attribute: string]: unknown;
}

/** The parts of serverless.yml that local provisioning reads. */
export interface ServerlessDefinition {
  service: string;
  custom: Record<string, unknown>;
  resources: Record<string, CfnResource>;
  /** The `functions:` section as written (handlers and events). */
  functions: Record<string, unknown>;
}

/** Thrown when serverless.yml uses something local provisioning cannot reproduce. */
export class UnsupportedDefinitionError extends Error {
  override readonly name = 'UnsupportedDefinitionError';
}

interface YamlType {
  new (tag: string, options: { kind: 'scalar' | 'sequence' | 'mapping'; construct: (data: unknown) => unknown }): object;
}
interface JsYaml {
  Type: YamlType;
  DEFAULT_SCHEMA: { extend(types: object[]): object };
  load(text: string, options: { schema: object; filename?: string }): unknown;
}

// js-yaml is what osls itself parses serverless.yml with.
const yaml = createRequire(import.meta.url)('js-yaml') as JsYaml;

const INTRINSIC_FUNCTIONS = [
  'And', 'Base64', 'Cidr', 'Condition', 'Equals', 'FindInMap', 'GetAtt', 'GetAZs', 'If',
  'ImportValue', 'Join', 'Not', 'Or', 'Ref', 'Select', 'Split', 'Sub', 'Transform',
];

/** The CloudFormation short forms (`!Ref`, `!GetAtt A.B`, ...) as osls reads them. */
const CLOUDFORMATION_SCHEMA = yaml.DEFAULT_SCHEMA.extend(
  INTRINSIC_FUNCTIONS.flatMap((name) =>
    (['scalar', 'sequence', 'mapping'] as const).map(
      (kind) =>
        new yaml.Type(`!${name}`, {
          kind,
          construct: (data) => {
            const key = name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`;
            if (name === 'GetAtt' && typeof data === 'string') {
              const [logicalId, ...attribute] = data.split('.');
              return { [key]: [logicalId, attribute.join('.')] };
            }
            return { [key]: data };
          },
        }),
    ),
  ),
);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads serverless.yml with the CloudFormation tags, without resolving any variable. */
export function readServerlessDefinition(serverlessYmlPath: string = SERVERLESS_YML_PATH): ServerlessDefinition {
  const document = yaml.load(readFileSync(serverlessYmlPath, 'utf8'), {
    schema: CLOUDFORMATION_SCHEMA,
    filename: serverlessYmlPath,
  });
  if (!isRecord(document) || typeof document.service !== 'string') {
    throw new UnsupportedDefinitionError(`${serverlessYmlPath}: no "service" name`);
  }
  const resources = isRecord(document.resources) ? document.resources.Resources : undefined;
  if (!isRecord(resources)) throw new UnsupportedDefinitionError(`${serverlessYmlPath}: no resources.Resources`);
  return {
    service: document.service,
    custom: isRecord(document.custom) ? document.custom : {},
    resources: resources as Record<string, CfnResource>,
    functions: isRecord(document.functions) ? document.functions : {},
  };
}

/**
 * Resolves the few Serverless variables that resource definitions use
 * (`${self:service}`, `${sls:stage}`, `${opt:stage, ...}`, `${self:custom.x}`),
 * innermost first. Anything else is refused rather than guessed.
 */
function resolveVariables(value: string, definition: ServerlessDefinition, stage: string): string {
  const variable = /\$\{([^{}]+)\}/;
  let resolved = value;
  for (let match = variable.exec(resolved); match !== null; match = variable.exec(resolved)) {
    const expression = (match[1] ?? '').trim();
    resolved = resolved.replace(match[0], resolveVariable(expression, definition, stage));
  }
  return resolved;
}

function resolveVariable(expression: string, definition: ServerlessDefinition, stage: string): string {
  if (expression === 'self:service') return definition.service;
  if (expression === 'sls:stage' || expression === 'self:provider.stage' || /^opt:stage\b/.test(expression)) {
    return stage;
  }
  const custom = /^self:custom\.([\w.-]+)$/.exec(expression);
  if (custom?.[1] !== undefined) {
    let node: unknown = definition.custom;
    for (const key of custom[1].split('.')) node = isRecord(node) ? node[key] : undefined;
    if (typeof node === 'string' || typeof node === 'number') {
      return resolveVariables(String(node), definition, stage);
    }
  }
  throw new UnsupportedDefinitionError(`serverless.yml variable \${${expression}} cannot be resolved locally`);
}

/** Table properties that only matter in AWS (backups, encryption, tags...). */
const TABLE_PROPERTIES_IGNORED_LOCALLY = new Set([
  'PointInTimeRecoverySpecification',
  'SSESpecification',
  'Tags',
  'DeletionProtectionEnabled',
  'ContributorInsightsSpecification',
  'TableClass',
]);
const TABLE_PROPERTIES_PASSED_AS_IS = new Set([
  'TableName',
  'AttributeDefinitions',
  'KeySchema',
  'BillingMode',
  'GlobalSecondaryIndexes',
  'LocalSecondaryIndexes',
  'ProvisionedThroughput',
]);

/** Queue properties that only matter in AWS (encryption, tags). */
const QUEUE_PROPERTIES_IGNORED_LOCALLY = new Set(['KmsMasterKeyId', 'KmsDataKeyReusePeriodSeconds', 'SqsManagedSseEnabled', 'Tags']);
/** Queue properties whose CloudFormation name is the SQS attribute name. */
const QUEUE_ATTRIBUTE_PROPERTIES = new Set([
  'DelaySeconds',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ReceiveMessageWaitTimeSeconds',
  'VisibilityTimeout',
  'FifoQueue',
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'FifoThroughputLimit',
]);
/** Queue properties that CloudFormation takes as objects and SQS as JSON strings. */
const QUEUE_JSON_PROPERTIES = new Set(['RedrivePolicy', 'RedriveAllowPolicy']);

interface ProvisionedResource {
  ref: string;
  attributes: Record<string, string>;
}

const TABLE_ACTIVE_POLL_MS = 50;
const TABLE_ACTIVE_TIMEOUT_MS = 10_000;

/**
 * Creates every DynamoDB table and SQS queue declared in serverless.yml, with
 * the names it gives them for `stage` (plus `-<nameSuffix>`). Idempotent: what
 * already exists is left as it is.
 *
 * Ignored locally: point-in-time recovery, encryption, tags, deletion policies.
 */
export async function provisionResources(options: ProvisionOptions): Promise<ProvisionedResources> {
  const definition = readServerlessDefinition(options.serverlessYmlPath);
  const dynamo = new DynamoDBClient({ endpoint: options.dynamoEndpoint, region: options.region, credentials: LOCAL_CREDENTIALS });
  const sqs = new SQSClient({ endpoint: options.sqsEndpoint, region: options.region, credentials: LOCAL_CREDENTIALS });
  const provisioned = new Map<string, Promise<ProvisionedResource>>();

  const localName = (name: unknown, logicalId: string): string => {
    if (typeof name !== 'string') {
      throw new UnsupportedDefinitionError(`${logicalId} needs an explicit name to be created locally`);
    }
    const resolved = resolveVariables(name, definition, options.stage);
    return options.nameSuffix === undefined ? resolved : `${resolved}-${options.nameSuffix}`;
  };

  /** Resolves variables, `Ref` and `Fn::GetAtt` in a property value, creating referenced resources first. */
  const resolveValue = async (value: unknown, logicalId: string): Promise<unknown> => {
    if (typeof value === 'string') return resolveVariables(value, definition, options.stage);
    if (Array.isArray(value)) return Promise.all(value.map((item) => resolveValue(item, logicalId)));
    if (!isRecord(value)) return value;
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === 'Ref' && typeof value.Ref === 'string') {
      return (await provision(value.Ref)).ref;
    }
    const getAtt = value['Fn::GetAtt'];
    if (keys.length === 1 && Array.isArray(getAtt)) {
      const [target, attribute] = getAtt as [string, string];
      const resolved = (await provision(target)).attributes[attribute];
      if (resolved === undefined) throw new UnsupportedDefinitionError(`${logicalId}: !GetAtt ${target}.${attribute} is not known locally`);
      return resolved;
    }
    if (keys.some((key) => key.startsWith('Fn::'))) {
      throw new UnsupportedDefinitionError(`${logicalId}: ${keys.join(', ')} is not supported locally`);
    }
    const entries = await Promise.all(keys.map(async (key) => [key, await resolveValue(value[key], logicalId)] as const));
    return Object.fromEntries(entries);
  };

  const provisionTable = async (logicalId: string, properties: Record<string, unknown>): Promise<ProvisionedResource> => {
    const input: Record<string, unknown> = {};
    let timeToLive: { AttributeName: string; Enabled: boolean } | undefined;
    for (const [key, raw] of Object.entries(properties)) {
      if (TABLE_PROPERTIES_IGNORED_LOCALLY.has(key)) continue;
      const value = key === 'TableName' ? localName(raw, logicalId) : await resolveValue(raw, logicalId);
      if (TABLE_PROPERTIES_PASSED_AS_IS.has(key)) input[key] = value;
      else if (key === 'StreamSpecification' && isRecord(value)) input[key] = { StreamEnabled: true, ...value };
      else if (key === 'TimeToLiveSpecification' && isRecord(value)) {
        timeToLive = { AttributeName: String(value.AttributeName), Enabled: value.Enabled === true || value.Enabled === 'true' };
      } else throw new UnsupportedDefinitionError(`${logicalId}: table property ${key} is not supported locally`);
    }
    const tableName = String(input.TableName);
    try {
      await dynamo.send(new CreateTableCommand(input as unknown as CreateTableCommandInput));
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
    const table = await waitForActiveTable(dynamo, tableName);
    if (timeToLive?.Enabled === true) {
      const current = await dynamo.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
      if (current.TimeToLiveDescription?.TimeToLiveStatus !== 'ENABLED') {
        await dynamo.send(new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: timeToLive }));
      }
    }
    return { ref: tableName, attributes: { Arn: table.arn, ...(table.streamArn ? { StreamArn: table.streamArn } : {}) } };
  };

  const provisionQueue = async (logicalId: string, properties: Record<string, unknown>): Promise<ProvisionedResource> => {
    const attributes: Record<string, string> = {};
    for (const [key, raw] of Object.entries(properties)) {
      if (QUEUE_PROPERTIES_IGNORED_LOCALLY.has(key) || key === 'QueueName') continue;
      const value = await resolveValue(raw, logicalId);
      if (QUEUE_ATTRIBUTE_PROPERTIES.has(key)) attributes[key] = String(value);
      else if (QUEUE_JSON_PROPERTIES.has(key)) attributes[key] = typeof value === 'string' ? value : JSON.stringify(value);
      else throw new UnsupportedDefinitionError(`${logicalId}: queue property ${key} is not supported locally`);
    }
    const queueName = localName(properties.QueueName, logicalId);
    const { QueueUrl: queueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: queueName, Attributes: attributes }));
    if (queueUrl === undefined) throw new Error(`CreateQueue ${queueName} returned no URL`);
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
    const queueArn = Attributes?.QueueArn;
    if (queueArn === undefined) throw new Error(`GetQueueAttributes ${queueName} returned no QueueArn`);
    return { ref: queueUrl, attributes: { Arn: queueArn, QueueName: queueName, QueueUrl: queueUrl } };
  };

  const provision = (logicalId: string): Promise<ProvisionedResource> => {
    const existing = provisioned.get(logicalId);
    if (existing !== undefined) return existing;
    const resource = definition.resources[logicalId];
    if (resource === undefined) throw new UnsupportedDefinitionError(`serverless.yml has no resource ${logicalId}`);
    const properties = resource.Properties ?? {};
    let created: Promise<ProvisionedResource>;
    if (resource.Type === 'AWS::DynamoDB::Table') created = provisionTable(logicalId, properties);
    else if (resource.Type === 'AWS::SQS::Queue') created = provisionQueue(logicalId, properties);
    else throw new UnsupportedDefinitionError(`${logicalId}: ${resource.Type} is not provisioned locally`);
    provisioned.set(logicalId, created);
    return created;
  };

  try {
    const localTypes = new Set(['AWS::DynamoDB::Table', 'AWS::SQS::Queue']);
    const localIds = Object.entries(definition.resources)
      .filter(([, resource]) => localTypes.has(resource.Type))
      .map(([logicalId]) => logicalId);
    for (const logicalId of localIds) await provision(logicalId);
    const refOf = async (logicalId: string): Promise<string> => (await provision(logicalId)).ref;
    return {
      tableName: await refOf(LOGICAL_IDS.table),
      checkQueueUrl: await refOf(LOGICAL_IDS.checkQueue),
      checkDlqUrl: await refOf(LOGICAL_IDS.checkDlq),
    };
  } finally {
    dynamo.destroy();
    sqs.destroy();
  }
}

async function waitForActiveTable(dynamo: DynamoDBClient, tableName: string): Promise<{ arn: string; streamArn?: string }> {
  const deadline = Date.now() + TABLE_ACTIVE_TIMEOUT_MS;
  for (;;) {
    try {
      const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: tableName }));
      if (Table?.TableStatus === 'ACTIVE' && Table.TableArn !== undefined) {
        return { arn: Table.TableArn, ...(Table.LatestStreamArn ? { streamArn: Table.LatestStreamArn } : {}) };
      }
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
    if (Date.now() > deadline) throw new Error(`table ${tableName} did not become ACTIVE within ${TABLE_ACTIVE_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, TABLE_ACTIVE_POLL_MS));
  }
}
