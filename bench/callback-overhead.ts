/**
 * Part 3, run in its own process by bench/run.ts: the callback handler's time per callback
 * against the DynamoDB write it cannot avoid, against DynamoDB Local, in the same run.
 *
 * Each round takes three tasks created in the store as a `start` leaves them (prepared, with a
 * vendor task id) and, for record_started then record_finished, runs three arms one after the
 * other, rotating which goes first:
 * (a) the real handler (functions/tic-callback.ts, imported after the environment is set as the
 *     local stack sets it), invoked in-process with a correctly signed HTTP API v2 event;
 * (b) the bare conditional UpdateItem the same callback needs: the store's rendered plan for the
 *     same event and body, `ReturnValues: NONE`, through a client of its own;
 * (c) the same UpdateItem with `ReturnValues: ALL_NEW`, as the store sends it (the handler logs
 *     the resulting task), to tell the cost of the returned item from the handler's own.
 *
 * Usage: node --import tsx bench/callback-overhead.ts <result.json> [rounds] [warmup rounds]
 */
import { randomBytes, randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startDynamoDbLocal, startSqsLocal } from '../local/aws-services';
import { lambdaContext } from '../local/http-gateway';
import { provisionResources } from '../local/resources';
import { renderPlan, TASK_PK_PREFIX } from '../lib/adapters/dynamo-task-store';
import { resolveSettings } from '../lib/recording/settings';
import { newStartingTask, planFor, type RecordingEvent, type TransitionContext } from '../lib/recording/transitions';
import { signFor } from '../lib/tic/sign';
import { normalizeVideos } from '../lib/tic/tracks';
import { makeRecordUserId } from '../lib/tic/user-id';
import type { VideoInfo } from '../lib/tic/wire';
import { progress } from './child';
import { median, p90 } from './stats';

const [resultFile, roundsArg = '200', warmupArg = '20'] = process.argv.slice(2);
if (!resultFile) throw new Error('usage: callback-overhead.ts <result.json> [rounds] [warmup rounds]');
const ROUNDS = Number(roundsArg);
const WARMUP_ROUNDS = Number(warmupArg);

const SDKAPPID = 1400127115;
const TIC_KEY = '9016607A382749C69D4F4B00C61DD083';
const CALLBACK_SECRET = randomBytes(24).toString('base64url');
const SIGN_LIFETIME_SECONDS = 300;
const ROOM_ID = 4242;
const VIDEO_SECONDS = 3600;

/** A finished class's tracks as the vendor lists them: the whiteboard and one camera. */
function videosFor(taskId: string): VideoInfo[] {
  const base = { video_format: 'mp4', video_play_time: 0, video_duration: VIDEO_SECONDS * 1000 };
  return [
    { ...base, video_size: 90_000_000, video_url: `https://vod.example.com/${taskId}/wb.mp4`, video_id: '5285890781763144364', video_type: 2, user_id: '' },
    { ...base, video_size: 270_000_000, video_url: `https://vod.example.com/${taskId}/cam.mp4`, video_id: '5285890781763144365', video_type: 0, user_id: 'teacher' },
  ];
}

/** The callback body as the vendor (and the emulator) sends it (vendor document 4.5). */
function callbackBody(kind: 'record_started' | 'record_finished', recordUserId: string, taskId: string, nowSeconds: number): string {
  const common = {
    expire_time: nowSeconds + SIGN_LIFETIME_SECONDS,
    timestamp: nowSeconds,
    error_code: 0,
    error_msg: '',
    task_id: taskId,
    callback_type: kind,
    record_user_id: recordUserId,
    room_id: ROOM_ID,
    group_id: String(ROOM_ID),
  };
  return JSON.stringify(
    kind === 'record_started'
      ? common
      : { ...common, start_time: nowSeconds - VIDEO_SECONDS, stop_time: nowSeconds, video_info: videosFor(taskId) },
  );
}

/** The HTTP API v2 event API Gateway would hand the function for that callback. */
function callbackEvent(body: string): APIGatewayProxyEventV2 {
  const { expire_time: expireTime } = JSON.parse(body) as { expire_time: number };
  const query = { sign: signFor(TIC_KEY, expireTime), random: String(randomInt(1, 2 ** 31)), sdkappid: String(SDKAPPID) };
  const rawQueryString = new URLSearchParams(query).toString();
  const now = Date.now();
  const rawPath = `/tic/callback/${CALLBACK_SECRET}`;
  return {
    version: '2.0',
    routeKey: 'POST /tic/callback/{secret}',
    rawPath,
    rawQueryString,
    headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), host: 'api.example.com' },
    queryStringParameters: query,
    pathParameters: { secret: CALLBACK_SECRET },
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'bench',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method: 'POST', path: rawPath, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'tic-callback' },
      requestId: randomBytes(8).toString('hex'),
      routeKey: 'POST /tic/callback/{secret}',
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
  };
}

function vendorTaskId(): string {
  return randomBytes(10).toString('hex');
}

const dynamo = await startDynamoDbLocal();
const sqs = await startSqsLocal();
try {
  const resources = await provisionResources({ dynamoEndpoint: dynamo.endpoint, sqsEndpoint: sqs.endpoint, region: LOCAL_REGION, stage: 'bench' });
  // As local/stack.ts sets the functions' environment; INFO is the deployed log level.
  Object.assign(process.env, {
    AWS_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    TABLE_NAME: resources.tableName,
    CHECK_QUEUE_URL: resources.checkQueueUrl,
    DYNAMODB_ENDPOINT: dynamo.endpoint,
    SQS_ENDPOINT: sqs.endpoint,
    TIC_BASE_URL: 'http://127.0.0.1:9',
    TIC_SDKAPPID: String(SDKAPPID),
    SECRETS_SOURCE: 'env',
    TIC_KEY,
    USERSIG_SECRET_KEY: randomBytes(32).toString('hex'),
    API_TOKENS: `bench:${randomBytes(16).toString('hex')}`,
    CALLBACK_SECRET,
    POWERTOOLS_SERVICE_NAME: 'tic-recording-bench',
    POWERTOOLS_METRICS_NAMESPACE: 'TicRecording',
    LOG_LEVEL: 'INFO',
  });
  const { handler } = await import('../functions/tic-callback');
  const { store } = await import('../lib/runtime');

  // The bare writes go through a client of their own, configured as lib/runtime.ts configures its.
  const bare = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: dynamo.endpoint }));
  const settings = resolveSettings();
  const context = (): TransitionContext => ({ nowMs: Date.now(), settings });

  /** A task as `start` leaves it: created, then accepted by the vendor with a task id. */
  async function preparedTask(index: number): Promise<{ recordUserId: string; taskId: string }> {
    const recordUserId = makeRecordUserId(ROOM_ID, `b${index}`);
    const taskId = vendorTaskId();
    await store.create(newStartingTask({ recordUserId, roomId: ROOM_ID }, context()));
    const accepted = await store.apply(recordUserId, planFor({ type: 'start_accepted', taskId }, context()));
    if (!accepted.applied) throw new Error(`could not prepare ${recordUserId}`);
    return { recordUserId, taskId };
  }

  async function viaHandler(kind: 'record_started' | 'record_finished', task: { recordUserId: string; taskId: string }): Promise<number> {
    const event = callbackEvent(callbackBody(kind, task.recordUserId, task.taskId, Math.floor(Date.now() / 1000)));
    const invocationContext = lambdaContext('ticCallback');
    const began = performance.now();
    const response = (await handler(event, invocationContext)) as APIGatewayProxyStructuredResultV2;
    const elapsedMs = performance.now() - began;
    if (response.statusCode !== 200 || response.body !== '{"error_code":0}') {
      throw new Error(`callback answered ${response.statusCode} ${response.body}`);
    }
    return elapsedMs;
  }

  async function bareWrite(
    kind: 'record_started' | 'record_finished',
    task: { recordUserId: string; taskId: string },
    returnValues: 'NONE' | 'ALL_NEW',
  ): Promise<number> {
    const nowSeconds = Math.floor(Date.now() / 1000);
    const raw = callbackBody(kind, task.recordUserId, task.taskId, nowSeconds);
    const event: RecordingEvent =
      kind === 'record_started'
        ? { type: 'callback_started', taskId: task.taskId, errorCode: 0, errorMsg: '', raw }
        : {
            type: 'callback_finished',
            taskId: task.taskId,
            errorCode: 0,
            errorMsg: '',
            startTimeSeconds: nowSeconds - VIDEO_SECONDS,
            stopTimeSeconds: nowSeconds,
            tracks: normalizeVideos(videosFor(task.taskId)),
            raw,
          };
    const command = new UpdateCommand({
      TableName: resources.tableName,
      Key: { pk: `${TASK_PK_PREFIX}${task.recordUserId}` },
      ...renderPlan(planFor(event, context())),
      ReturnValues: returnValues,
    });
    const began = performance.now();
    await bare.send(command);
    return performance.now() - began;
  }

  type TaskRef = { recordUserId: string; taskId: string };
  progress(`callback overhead: creating ${3 * (ROUNDS + WARMUP_ROUNDS)} tasks`);
  const rounds: Array<{ handled: TaskRef; bareNone: TaskRef; bareAllNew: TaskRef }> = [];
  for (let index = 0; index < ROUNDS + WARMUP_ROUNDS; index += 1) {
    rounds.push({ handled: await preparedTask(3 * index), bareNone: await preparedTask(3 * index + 1), bareAllNew: await preparedTask(3 * index + 2) });
  }

  type Arm = 'handler' | 'bareNone' | 'bareAllNew';
  const ARMS: readonly Arm[] = ['handler', 'bareNone', 'bareAllNew'];
  const samples: Record<Arm, Record<'record_started' | 'record_finished', number[]>> = {
    handler: { record_started: [], record_finished: [] },
    bareNone: { record_started: [], record_finished: [] },
    bareAllNew: { record_started: [], record_finished: [] },
  };
  for (const [index, round] of rounds.entries()) {
    const measured = index >= WARMUP_ROUNDS;
    for (const kind of ['record_started', 'record_finished'] as const) {
      // Rotate which arm goes first, so that none always runs on a just-warmed connection.
      for (let turn = 0; turn < ARMS.length; turn += 1) {
        const arm = ARMS[(index + turn) % ARMS.length] as Arm;
        const elapsedMs =
          arm === 'handler'
            ? await viaHandler(kind, round.handled)
            : await bareWrite(kind, arm === 'bareNone' ? round.bareNone : round.bareAllNew, arm === 'bareNone' ? 'NONE' : 'ALL_NEW');
        if (measured) samples[arm][kind].push(elapsedMs);
      }
    }
    if ((index + 1) % 50 === 0) progress(`callback overhead: ${index + 1}/${rounds.length} rounds`);
  }

  // Every arm must have done its work: the last round's three tasks all finished, with their tracks.
  const last = rounds.at(-1);
  if (last === undefined) throw new Error('no rounds');
  for (const task of [last.handled, last.bareNone, last.bareAllNew]) {
    const stored = await store.get(task.recordUserId);
    if (stored?.status !== 'finished' || stored.tracks.length !== 2) {
      throw new Error(`sanity check failed: ${task.recordUserId} is ${stored?.status} with ${stored?.tracks.length} tracks`);
    }
  }

  const summary = (values: number[]) => ({ medianMs: median(values), p90Ms: p90(values), count: values.length });
  const armSummary = (arm: Arm) => ({
    started: summary(samples[arm].record_started),
    finished: summary(samples[arm].record_finished),
    all: summary([...samples[arm].record_started, ...samples[arm].record_finished]),
  });
  writeFileSync(
    resultFile,
    JSON.stringify({
      rounds: ROUNDS,
      warmupRounds: WARMUP_ROUNDS,
      handler: armSummary('handler'),
      bareNone: armSummary('bareNone'),
      bareAllNew: armSummary('bareAllNew'),
    }),
  );
  bare.destroy();
} finally {
  await sqs.stop();
  await dynamo.stop();
}
