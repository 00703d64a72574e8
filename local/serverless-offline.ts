/**
 * serverless-offline as a child process: `sls offline start` on serverless.yml, which builds
 * the bundles with serverless-esbuild and serves the httpApi routes as Lambda would. The SQS
 * and schedule events it does not run are invoked through its Lambda endpoint
 * (`POST /2015-03-31/functions/{name}/invocations`), by local/stack.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getFreePort, LOCAL_HOST } from './ports';

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
const READY_TIMEOUT_MS = 120_000;
const READY_POLL_MS = 200;
const STOP_GRACE_MS = 5_000;
const OUTPUT_TAIL_CHARS = 4_000;

export interface ServerlessOffline {
  url: string;
  pid: number | undefined;
  invoke(functionName: string, event: unknown): Promise<unknown>;
  stop(): Promise<void>;
}

export class ServerlessOfflineError extends Error {
  override readonly name = 'ServerlessOfflineError';
}

function slsBinary(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('osls/package.json')), 'bin', 'serverless.js');
}

async function waitForHttp(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const started = Date.now();
  while (Date.now() - started < READY_TIMEOUT_MS) {
    if (child.exitCode !== null) throw new ServerlessOfflineError(`serverless-offline exited (${child.exitCode}):\n${output()}`);
    try {
      await fetch(url, { signal: AbortSignal.timeout(1_000) });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
    }
  }
  throw new ServerlessOfflineError(`serverless-offline did not answer on ${url} within ${READY_TIMEOUT_MS} ms:\n${output()}`);
}

export async function startServerlessOffline(options: {
  stage: string;
  httpPort: number;
  env: Record<string, string>;
  log: (line: string) => void;
  /** Called if serverless-offline exits on its own after it was ready (not after `stop()`). */
  onUnexpectedExit?: (error: Error) => void;
}): Promise<ServerlessOffline> {
  const httpPort = options.httpPort || (await getFreePort());
  const lambdaPort = await getFreePort();
  const service = 'tic-recording';
  let tail = '';
  const child = spawn(
    process.execPath,
    [
      slsBinary(),
      'offline',
      'start',
      '--stage',
      options.stage,
      '--host',
      LOCAL_HOST,
      '--httpPort',
      String(httpPort),
      '--lambdaPort',
      String(lambdaPort),
      '--noPrependStageInUrl',
      // The functions' local settings and secrets travel in this process's environment.
      '--localEnvironment',
      // serverless.yml's deployed defaults are CloudFormation Refs; locally, the provisioned names.
      '--param',
      `tasksTableName=${options.env.TABLE_NAME ?? ''}`,
      '--param',
      `checkQueueUrl=${options.env.CHECK_QUEUE_URL ?? ''}`,
    ],
    {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...options.env, ESBUILD_WORK_FOLDER: `.esbuild-offline/${httpPort}`, SLS_TELEMETRY_DISABLED: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  );
  const collect = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-OUTPUT_TAIL_CHARS);
    for (const line of chunk.toString().split('\n')) {
      // serverless-offline logs request paths; the callback's carries its secret.
      if (line.trim()) options.log(`[offline] ${line.trimEnd().replace(/\/tic\/callback\/[^\s/?]+/g, '/tic/callback/***')}`);
    }
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const url = `http://${LOCAL_HOST}:${httpPort}`;
  let stopping = false;
  const kill = async () => {
    stopping = true;
    if (child.exitCode !== null || child.pid === undefined) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  };
  process.once('exit', () => {
    if (child.pid !== undefined && child.exitCode === null) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
  try {
    await waitForHttp(url, child, () => tail);
  } catch (error) {
    await kill();
    throw error;
  }
  child.once('exit', (code, signal) => {
    if (!stopping) options.onUnexpectedExit?.(new ServerlessOfflineError(`serverless-offline exited (${signal ?? code}):\n${tail}`));
  });
  return {
    url,
    pid: child.pid,
    invoke: async (functionName, event) => {
      const response = await fetch(
        `http://${LOCAL_HOST}:${lambdaPort}/2015-03-31/functions/${service}-${options.stage}-${functionName}/invocations`,
        { method: 'POST', body: JSON.stringify(event), headers: { 'content-type': 'application/json' } },
      );
      const text = await response.text();
      if (!response.ok || response.headers.get('x-amz-function-error')) {
        throw new ServerlessOfflineError(`${functionName} failed (${response.status}): ${text.slice(0, 500)}`);
      }
      return text ? JSON.parse(text) : undefined;
    },
    stop: kill,
  };
}
