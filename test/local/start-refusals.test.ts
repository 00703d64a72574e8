/**
 * `npm start` refuses clearly, without a stack trace, when a port it needs is taken or Java
 * (for DynamoDB Local) is missing — and starts nothing in either case.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { getFreePort } from '../../local/ports';

const ROOT = path.resolve(import.meta.dirname, '../..');
const TSX_CLI = path.join(ROOT, 'node_modules/tsx/dist/cli.mjs');

function runStart(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [TSX_CLI, 'local/start.ts'], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

const servers: Server[] = [];
afterAll(() => servers.forEach((server) => server.close()));

describe('npm start refusals', () => {
  it('refuses a taken API port by name, without a stack trace', async () => {
    const port = await getFreePort();
    const server = createServer();
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
    const emulatorPort = await getFreePort();
    const { code, output } = await runStart({ API_PORT: String(port), TIC_EMULATOR_PORT: String(emulatorPort) });
    expect(code).toBe(1);
    expect(output).toContain(`cannot start: port ${port} is already in use`);
    expect(output).not.toMatch(/\n\s+at /);
  }, 60_000);

  it('refuses clearly when java is not on PATH', async () => {
    // A PATH holding node alone: no java.
    const bin = mkdtempSync(path.join(tmpdir(), 'no-java-'));
    symlinkSync(process.execPath, path.join(bin, 'node'));
    const [apiPort, emulatorPort] = [await getFreePort(), await getFreePort()];
    const { code, output } = await runStart({ PATH: bin, API_PORT: String(apiPort), TIC_EMULATOR_PORT: String(emulatorPort) });
    expect(code).toBe(1);
    expect(output).toContain('cannot start: Java runtime not found');
    expect(output).not.toMatch(/\n\s+at /);
  }, 60_000);

  it('refuses a malformed port setting', async () => {
    const { code, output } = await runStart({ API_PORT: 'three thousand' });
    expect(code).toBe(2);
    expect(output).toContain('API_PORT must be a port number');
  }, 60_000);
});
