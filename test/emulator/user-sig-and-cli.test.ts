/**
 * The optional UserSig check (`checkUserSig`) and the CLI (flags, listening line, signals).
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../emulator/index';
import { FAST, callVendor, nowSeconds, startBody } from './helpers';

const require = createRequire(import.meta.url);
const TLSSigAPIv2 = require('tls-sig-api-v2') as { Api: new (sdkappid: number, key: string) => { genSig(userId: string, expireSeconds: number): string } };
const SECRET_KEY = '5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e';

/** A TLS sig v2 made by hand, to control its time (the package reads the clock). */
function handMadeSig(fields: Record<string, unknown>): string {
  return deflateSync(Buffer.from(JSON.stringify({ 'TLS.ver': '2.0', 'TLS.sig': 'x', ...fields })))
    .toString('base64')
    .replaceAll('+', '*')
    .replaceAll('/', '-')
    .replaceAll('=', '_');
}

describe('checkUserSig', () => {
  let emulator: RunningEmulator;
  beforeAll(async () => {
    emulator = await startEmulator({ ...FAST, checkUserSig: true });
  });
  afterAll(() => emulator.close());

  it('accepts a sig from the vendor package for the recording user', async () => {
    const userSig = new TLSSigAPIv2.Api(FAST.sdkappid, SECRET_KEY).genSig('tic_record_user_5_01', 3600);
    expect((await callVendor(emulator, { path: 'start', body: startBody(5, '01', { user_sig: userSig }) })).json['error_code']).toBe(0);
  });

  it.each([
    ['made for another user', () => new TLSSigAPIv2.Api(FAST.sdkappid, SECRET_KEY).genSig('teacher', 3600), 'user_sig: made for another user_id'],
    ['made for another app', () => new TLSSigAPIv2.Api(1400999999, SECRET_KEY).genSig('tic_record_user_5_01', 3600), 'user_sig: made for another sdkappid'],
    [
      'expired',
      () => handMadeSig({ 'TLS.identifier': 'tic_record_user_5_01', 'TLS.sdkappid': FAST.sdkappid, 'TLS.time': nowSeconds() - 7200, 'TLS.expire': 3600 }),
      'user_sig: expired',
    ],
    ['not a sig at all', () => 'valid usersig', 'user_sig: not a TLS sig v2'],
  ])('refuses a sig %s with 20003', async (_label, makeSig, message) => {
    const { json } = await callVendor(emulator, { path: 'start', body: startBody(5, '01', { user_sig: makeSig() }) });
    expect(json).toEqual({ error_code: 20003, error_msg: message });
  });
});

/** Runs the CLI; resolves with its exit code and output. */
function runCli(args: string[], onLine?: (line: string, kill: () => void) => void): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'emulator/cli.ts', ...args], { cwd: process.cwd(), stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      onLine?.(stdout, () => child.kill('SIGTERM'));
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('CLI', () => {
  it('exits 2 with a clear message on a bad flag or value', async () => {
    const unknown = await runCli(['--bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('bogus');
    const badValue = await runCli(['--start-delay-ms', 'soon']);
    expect(badValue.code).toBe(2);
    expect(badValue.stderr).toContain('--start-delay-ms: expected an integer');
    const inconsistent = await runCli(['--trial-sign', 'abc']);
    expect(inconsistent.code).toBe(2);
    expect(inconsistent.stderr).toContain('trialSign and trialExpireTime');
  });

  it('prints one line with its URL, answers there, and exits cleanly on SIGTERM', async () => {
    let answered: unknown;
    const result = await runCli(['--port', '0', '--sdkappid', '1400127115', '--tic-key', 'SECRETKEYSECRETKEY'], (output, kill) => {
      const url = /listening on (http:\/\/\S+)/.exec(output)?.[1];
      if (!url || answered !== undefined) return;
      answered = null;
      void fetch(`${url}/_emulator/stats`)
        .then((response) => response.json())
        .then((stats) => (answered = stats))
        .finally(kill);
    });
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
    expect(result.stdout).not.toContain('SECRETKEY');
    expect(answered).toMatchObject({ requests: { control: 1 } });
  });
});
