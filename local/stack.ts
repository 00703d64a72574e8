/**
 * The whole system on one machine: DynamoDB Local, fauxqs (SQS), the TIC emulator, the
 * table and queues created from serverless.yml, the platform API and the callback route,
 * the check worker fed by an SQS bridge, the periodic sweep, and the callback URL registered
 * with the emulator. `npm start` runs it with serverless-offline (the bundles, as Lambda
 * runs them); the tests run the same handlers in-process behind lib's HTTP gateway stand-in.
 */
import { randomBytes } from 'node:crypto';
import { SQSClient, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../emulator/index';
import {
  assertJavaAvailable,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  startDynamoDbLocal,
  startSqsLocal,
  type LocalService,
} from './aws-services';
import { lambdaContext, startHttpGateway, type HttpRoute, type LambdaHandler } from './http-gateway';
import { assertPortFree, LOCAL_HOST } from './ports';
import { provisionResources, type ProvisionedResources } from './resources';
import { readHttpRoutes, readFunctionHandlers } from './serverless-functions';
import { startServerlessOffline } from './serverless-offline';
import { startSqsBridge, type SqsBridge } from './sqs-bridge';

/** The stage whose names the local resources carry (`tic-recording-local-tasks`). */
export const LOCAL_STAGE = 'local';
/** A dev token, long enough for the API's minimum; override with API_TOKEN. */
export const DEFAULT_DEV_TOKEN = 'local-dev-token-change-me';
const DEFAULT_SWEEP_INTERVAL_MS = 60_000;

export interface LocalStackOptions {
  /** `offline`: serverless-offline runs the bundles (npm start); `in-process`: handlers imported here (tests). */
  mode: 'offline' | 'in-process';
  /** 0 picks a free port. */
  apiPort?: number;
  emulatorPort?: number;
  dynamoPort?: number;
  sqsPort?: number;
  apiToken?: string;
  /** The emulator's timings and identity (sdkappid, TicKey). */
  emulator?: EmulatorOptions;
  /** Extra environment of the functions, e.g. START_CHECK_DELAY_SECONDS (lib/config.ts). */
  functionEnv?: Record<string, string>;
  sweepIntervalMs?: number;
  /** Progress and warnings; default silent. */
  log?: (line: string) => void;
  /** Called when a part of the stack dies on its own after start (e.g. serverless-offline crashed). */
  onFatal?: (error: Error) => void;
  /**
   * Use already running DynamoDB and SQS (the test run's, test/support/global-setup.ts)
   * instead of starting new ones; `nameSuffix` then keeps this stack's table and queues apart.
   */
  aws?: { dynamoEndpoint: string; sqsEndpoint: string; nameSuffix: string };
  /**
   * In-process mode only: wraps each handler as it is loaded, so that a test can make a
   * function die before or after its work (crash-safety tests). Not used by `npm start`.
   */
  wrapHandler?: (functionName: string, handler: LambdaHandler) => LambdaHandler;
}

export interface LocalStack {
  apiUrl: string;
  apiToken: string;
  emulator: RunningEmulator;
  resources: ProvisionedResources;
  dynamoEndpoint: string;
  sqsEndpoint: string;
  /** The functions' environment (secrets included: local, generated values). */
  functionEnv: Record<string, string>;
  /** Child processes of the stack (DynamoDB Local's JVM, serverless-offline), gone after `stop()`. */
  processIds: number[];
  /** Runs the sweep once now, as the schedule would. */
  sweepNow(): Promise<void>;
  /** Stops everything started, in reverse order; safe to call twice. */
  stop(): Promise<void>;
}

/** Starts the stack; on any failure stops what it had started and rethrows. */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const log = options.log ?? (() => undefined);
  const stops: Array<() => Promise<void>> = [];
  const processIds: number[] = [];
  const stopAll = async () => {
    while (stops.length > 0) {
      const stop = stops.pop();
      await stop?.().catch((error: Error) => log(`stop failed: ${error.message}`));
    }
  };
  try {
    for (const port of [options.apiPort, options.emulatorPort, options.dynamoPort, options.sqsPort]) {
      if (port) await assertPortFree(port);
    }
    let dynamo: Pick<LocalService, 'endpoint'>;
    let sqsLocal: Pick<LocalService, 'endpoint'>;
    if (options.aws) {
      dynamo = { endpoint: options.aws.dynamoEndpoint };
      sqsLocal = { endpoint: options.aws.sqsEndpoint };
    } else {
      assertJavaAvailable();
      const [startedDynamo, startedSqs] = await Promise.all([
        startDynamoDbLocal(options.dynamoPort ? { port: options.dynamoPort } : {}),
        startSqsLocal(options.sqsPort ? { port: options.sqsPort } : {}),
      ]);
      stops.push(() => startedDynamo.stop());
      processIds.push(startedDynamo.pid);
      stops.push(() => startedSqs.stop());
      dynamo = startedDynamo;
      sqsLocal = startedSqs;
    }
    log(`DynamoDB Local on ${dynamo.endpoint}, SQS (fauxqs) on ${sqsLocal.endpoint}`);

    const emulator = await startEmulator({ host: LOCAL_HOST, port: options.emulatorPort ?? 0, ...options.emulator });
    stops.push(() => emulator.close());
    log(`TIC emulator on ${emulator.url}`);

    const resources = await provisionResources({
      dynamoEndpoint: dynamo.endpoint,
      sqsEndpoint: sqsLocal.endpoint,
      region: LOCAL_REGION,
      stage: LOCAL_STAGE,
      ...(options.aws ? { nameSuffix: options.aws.nameSuffix } : {}),
    });
    log(`table ${resources.tableName} and queues created from serverless.yml`);

    const apiToken = options.apiToken ?? DEFAULT_DEV_TOKEN;
    const functionEnv: Record<string, string> = {
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      TABLE_NAME: resources.tableName,
      CHECK_QUEUE_URL: resources.checkQueueUrl,
      DYNAMODB_ENDPOINT: dynamo.endpoint,
      SQS_ENDPOINT: sqsLocal.endpoint,
      TIC_BASE_URL: emulator.url,
      TIC_SDKAPPID: String(emulator.options.sdkappid),
      SECRETS_SOURCE: 'env',
      TIC_KEY: emulator.options.ticKey,
      USERSIG_SECRET_KEY: randomBytes(32).toString('hex'),
      API_TOKENS: `local:${apiToken}`,
      CALLBACK_SECRET: randomBytes(24).toString('base64url'),
      POWERTOOLS_SERVICE_NAME: 'tic-recording-local',
      POWERTOOLS_METRICS_NAMESPACE: 'TicRecording',
      ...options.functionEnv,
    };

    const runner = options.mode === 'offline' ? await offlineRunner(options, functionEnv, log) : await inProcessRunner(options, functionEnv, log);
    stops.push(runner.stop);
    if (runner.pid !== undefined) processIds.push(runner.pid);

    const sqs = new SQSClient({ endpoint: sqsLocal.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    stops.push(async () => sqs.destroy());
    const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: resources.checkQueueUrl, AttributeNames: ['QueueArn'] })))
      .Attributes?.QueueArn;
    const bridge: SqsBridge = startSqsBridge({
      sqs,
      queueUrl: resources.checkQueueUrl,
      queueArn: queueArn ?? '',
      region: LOCAL_REGION,
      invoke: (event) => runner.invoke('checkWorker', event) as Promise<SQSBatchResponse | void>,
      onError: (error) => log(`check worker batch failed: ${error.message}`),
    });
    stops.push(() => bridge.stop());

    const sweepNow = async () => {
      await runner.invoke('sweep', { source: 'local.schedule', 'detail-type': 'Scheduled Event', detail: {} });
    };
    if (options.mode === 'in-process') {
      // serverless-offline runs the sweep's schedule itself; in-process, this timer stands in for it.
      const sweepTimer = setInterval(() => {
        sweepNow().catch((error: Error) => log(`sweep failed: ${error.message}`));
      }, options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS);
      sweepTimer.unref();
      stops.push(async () => clearInterval(sweepTimer));
    }

    // Imported only now: it reaches lib/logger, whose level is read once, at construction, from
    // the environment that inProcessRunner has just set (see there).
    const { registerCallback } = await import('../lib/register-callback');
    const registered = await registerCallback({ env: functionEnv, target: { kind: 'api', apiUrl: runner.apiUrl } });
    log(`callback URL ${registered.maskedUrl} registered with the emulator`);

    let stopped: Promise<void> | undefined;
    return {
      apiUrl: runner.apiUrl,
      apiToken,
      emulator,
      resources,
      dynamoEndpoint: dynamo.endpoint,
      sqsEndpoint: sqsLocal.endpoint,
      functionEnv,
      processIds,
      sweepNow,
      stop: () => (stopped ??= stopAll()),
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

interface FunctionRunner {
  apiUrl: string;
  pid?: number;
  invoke(functionName: string, event: unknown): Promise<unknown>;
  stop(): Promise<void>;
}

/** Handlers imported into this process, behind the in-process HTTP gateway. */
async function inProcessRunner(options: LocalStackOptions, env: Record<string, string>, log: (line: string) => void): Promise<FunctionRunner> {
  // The handlers read their configuration from the environment at import (lib/config.ts).
  // Only warnings and errors by default: a test that wants every line sets LOG_LEVEL itself.
  Object.assign(process.env, { LOG_LEVEL: 'WARN' }, env);
  // The logger reads LOG_LEVEL when it is built, and Powertools goes back to that level on every
  // warm invocation (refreshSampleRateCalculation), so setting it later lasts one invocation only.
  // Nothing this module imports statically reaches lib/logger: it is built here, with the level above.
  // The call below still helps when a test file imported the logger first.
  const { logger } = await import('../lib/logger');
  logger.setLogLevel((process.env.LOG_LEVEL ?? 'WARN') as Parameters<typeof logger.setLogLevel>[0]);
  const handlers = readFunctionHandlers();
  const cache = new Map<string, Promise<LambdaHandler>>();
  const handlerFor = (functionName: string): Promise<LambdaHandler> => {
    let loaded = cache.get(functionName);
    if (!loaded) {
      const handler = handlers[functionName];
      if (!handler) throw new Error(`no function ${functionName} in serverless.yml`);
      loaded = import(/* @vite-ignore */ `../${handler.file}`).then((module: Record<string, LambdaHandler>) => {
        const exported = module[handler.exportName];
        if (!exported) throw new Error(`${handler.file} exports no ${handler.exportName}`);
        return options.wrapHandler ? options.wrapHandler(functionName, exported) : exported;
      });
      cache.set(functionName, loaded);
    }
    return loaded;
  };
  const routes: HttpRoute[] = readHttpRoutes();
  const gateway = await startHttpGateway({
    routes,
    handlerFor,
    host: LOCAL_HOST,
    port: options.apiPort ?? 0,
    onHandlerError: (functionName, error) => log(`${functionName} threw: ${(error as Error).message}`),
  });
  return {
    apiUrl: gateway.url,
    invoke: async (functionName, event) => (await handlerFor(functionName))(event as SQSEvent, lambdaContext(functionName)),
    stop: () => gateway.close(),
  };
}

/** serverless-offline serving the HTTP routes; the worker and sweep invoked through its Lambda endpoint. */
async function offlineRunner(options: LocalStackOptions, env: Record<string, string>, log: (line: string) => void): Promise<FunctionRunner> {
  const offline = await startServerlessOffline({
    stage: LOCAL_STAGE,
    httpPort: options.apiPort ?? 0,
    env,
    log,
    onUnexpectedExit: (error) => options.onFatal?.(error),
  });
  return { apiUrl: offline.url, pid: offline.pid, invoke: (name, event) => offline.invoke(name, event), stop: () => offline.stop() };
}
