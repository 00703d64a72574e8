/**
 * Runs a benchmark part in its own Node process (TypeScript through tsx): each part sets the
 * functions' environment and imports the handlers, so parts must not share a module graph.
 * The part writes its result as JSON to the file named by its first argument; its stdout is
 * the functions' log output, counted here (bytes, lines) for the CloudWatch Logs estimate.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { OUT_DIR, REPO_DIR } from './paths';

export interface ChildOutput<T> {
  result: T;
  stdoutBytes: number;
  stdoutLines: number;
}

/** Runs `bench/<script>` with `args`; rejects with its stderr tail if it fails. */
export function runPart<T>(script: string, args: readonly string[], onProgress: (line: string) => void): Promise<ChildOutput<T>> {
  mkdirSync(OUT_DIR, { recursive: true });
  const resultFile = path.join(OUT_DIR, `${path.basename(script, '.ts')}-result.json`);
  rmSync(resultFile, { force: true });
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_DIR, 'bench', script), resultFile, ...args], {
      cwd: REPO_DIR,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdoutBytes = 0;
    let stdoutLines = 0;
    let stderrTail = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      for (const byte of chunk) if (byte === 0x0a) stdoutLines += 1;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      // Progress lines of the part go to stderr, prefixed so that they can be told from errors.
      for (const line of text.split('\n')) if (line.startsWith('[bench] ')) onProgress(line.slice('[bench] '.length));
      stderrTail = (stderrTail + text).slice(-4000);
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code !== 0) {
        reject(new Error(`bench/${script} exited with ${code ?? signal}:\n${stderrTail}`));
        return;
      }
      try {
        resolve({ result: JSON.parse(readFileSync(resultFile, 'utf8')) as T, stdoutBytes, stdoutLines });
      } catch (error) {
        reject(error as Error);
      }
    });
  });
}

/** A progress line from inside a part (stderr, so that stdout stays the functions' logs). */
export function progress(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}
