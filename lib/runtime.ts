/**
 * The composition root of the deployed functions: configuration, AWS clients, adapters and
 * the recording service, built once per Lambda container (module scope) and reused.
 *
 * Secrets are fetched on first use with the cache age of lib/secrets.ts; the TIC client and
 * the service are rebuilt only when a secret's value changes (rotation), never per request.
 * Each function asks only for the secrets its IAM role may read.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Metrics as PowertoolsMetrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoTaskStore } from './adapters/dynamo-task-store';
import { SqsCheckQueue } from './adapters/sqs-check-queue';
import { loadConfig } from './config';
import { logger, registerSecret } from './logger';
import type { Logger as DomainLogger, Metrics } from './recording/ports';
import { createRecordingService, type RecordingService } from './recording/service';
import { getSecret, parseApiTokens, parseTicCredentials, SECRET_NAMES, type ApiToken } from './secrets';
import type { TicApi } from './tic/api';
import { createTicClient, type TicCallEvent } from './tic/client';
import type { TicCredentials } from './tic/sign';
import { makeUserSig } from './tic/user-sig';

export const config = loadConfig();

const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: config.dynamoEndpoint }));
const sqs = new SQSClient({ endpoint: config.sqsEndpoint });

export const store = new DynamoTaskStore(dynamo, config.tableName);
export const checkQueue = new SqsCheckQueue(sqs, config.checkQueueUrl);

/** Powertools metrics go out as Embedded Metric Format log lines: no API call, no IAM permission. */
export const metrics = new PowertoolsMetrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'TicRecording' });

// Published as they happen (they are rare), rather than by a middleware that warns on every empty invocation.
const domainMetrics: Metrics = {
  taskFailedByDeadline: (task) => {
    metrics.addMetric('TasksFailedByDeadline', MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
    logger.error('task failed by deadline', { record_user_id: task.recordUserId, task_id: task.taskId, room_id: task.roomId });
  },
  checksResumedBySweep: (count) => {
    metrics.addMetric('ChecksResumedBySweep', MetricUnit.Count, count);
    metrics.publishStoredMetrics();
  },
};

/** The domain's logging port on the Powertools logger. */
const domainLogger: DomainLogger = {
  info: (message, attributes) => logger.info(message, { ...attributes }),
  warn: (message, attributes) => logger.warn(message, { ...attributes }),
  error: (message, attributes) => logger.error(message, { ...attributes }),
};

/** One log line per upstream attempt: operation, random, outcome, code, duration. Never the sign. */
function logTicCall(event: TicCallEvent): void {
  const attributes = { tic_operation: event.operation, random: event.random, attempt: event.attempt, code: event.code, duration_ms: event.durationMs };
  if (event.outcome === 'ok') logger.info('tic call', attributes);
  else logger.warn('tic call failed', attributes);
}

let tokensCache: { raw: string; tokens: ApiToken[] } | undefined;

/** The accepted API bearer tokens (parsed again only when the secret changes). */
export async function apiTokens(): Promise<readonly ApiToken[]> {
  const raw = await getSecret(config.secrets, SECRET_NAMES.apiTokens);
  if (tokensCache?.raw !== raw) {
    const tokens = parseApiTokens(raw);
    // getSecret registered the whole list ("name:token,..."); a line that quotes one token
    // (an Authorization header, say) holds only that token, so each is registered on its own.
    for (const { token } of tokens) registerSecret(token);
    tokensCache = { raw, tokens };
  }
  return tokensCache.tokens;
}

export async function callbackSecret(): Promise<string> {
  return getSecret(config.secrets, SECRET_NAMES.callbackSecret);
}

let ticCache: { raw: string; credentials: TicCredentials; client: TicApi } | undefined;

/** The TIC credentials and a client signing with them. */
export async function tic(): Promise<{ credentials: TicCredentials; client: TicApi }> {
  const raw = await getSecret(config.secrets, SECRET_NAMES.ticKey);
  if (ticCache?.raw !== raw) {
    const credentials = parseTicCredentials(raw);
    // A trial account's secret is JSON around a fixed sign: the sign alone is what a line would quote.
    if (credentials.mode === 'trial') registerSecret(credentials.sign);
    const client = createTicClient({
      baseUrl: config.tic.baseUrl,
      sdkappid: config.tic.sdkappid,
      credentials,
      timeoutMs: config.tic.timeoutMs,
      onCall: logTicCall,
    });
    ticCache = { raw, credentials, client };
  }
  return ticCache;
}

/** Stands in for the TIC client in functions that must not call the vendor (and may not read its key). */
const notWired = (): Promise<never> => Promise.reject(new Error('this function is not wired to call the TIC service'));
const noTic: TicApi = { start: notWired, stop: notWired, query: notWired, setCallback: notWired };

let serviceCache: { tic: TicApi; userSigKey: string | undefined; service: RecordingService } | undefined;

/**
 * The recording service. `needs.tic`: the function calls the vendor (reads the TicKey);
 * `needs.userSig`: it makes UserSigs (reads the UserSig secret key).
 */
export async function recordingService(needs: { tic?: boolean; userSig?: boolean } = {}): Promise<RecordingService> {
  const [ticClient, userSigKey] = await Promise.all([
    needs.tic ? tic().then((t) => t.client) : Promise.resolve(noTic),
    needs.userSig ? getSecret(config.secrets, SECRET_NAMES.userSigSecretKey) : Promise.resolve(undefined),
  ]);
  if (serviceCache?.tic !== ticClient || serviceCache.userSigKey !== userSigKey) {
    serviceCache = {
      tic: ticClient,
      userSigKey,
      service: createRecordingService({
        store,
        queue: checkQueue,
        tic: ticClient,
        makeUserSig: (userId, lifetimeSeconds) => {
          if (userSigKey === undefined) throw new Error('this function is not wired to make UserSigs');
          return makeUserSig({ sdkappid: config.tic.sdkappid, secretKey: userSigKey, userId, lifetimeSeconds });
        },
        metrics: domainMetrics,
        logger: domainLogger,
        settings: config.recordingSettings,
      }),
    };
  }
  return serviceCache.service;
}
