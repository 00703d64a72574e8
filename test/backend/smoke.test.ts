import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { useLocalAws } from '../support/local-aws';

let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({
    mode: 'in-process',
    aws: { ...useLocalAws(), nameSuffix: 'smoke' },
    emulator: { startDelayMs: 100, stopDelayMs: 100, processingDelayMs: 100, callbackRetryIntervalMs: 200 },
    functionEnv: { START_CHECK_DELAY_SECONDS: '1', STOP_CHECK_DELAY_SECONDS: '1' },
  });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

describe('smoke', () => {
  it('records a class end to end through callbacks', async () => {
    const auth = { authorization: `Bearer ${stack.apiToken}`, 'content-type': 'application/json' };
    const started = await fetch(`${stack.apiUrl}/recordings`, { method: 'POST', headers: auth, body: JSON.stringify({ room_id: 77 }) });
    expect(started.status).toBe(202);
    const task = (await started.json()) as { record_user_id: string };
    stack.emulator.join(77, 'teacher', { camera: true });
    await new Promise((r) => setTimeout(r, 500));
    const stopped = await fetch(`${stack.apiUrl}/recordings/${task.record_user_id}/stop`, { method: 'POST', headers: auth });
    expect(stopped.status).toBe(202);
    let status = '';
    for (let i = 0; i < 50 && status !== 'finished'; i += 1) {
      await new Promise((r) => setTimeout(r, 100));
      status = ((await (await fetch(`${stack.apiUrl}/recordings/${task.record_user_id}`, { headers: auth })).json()) as { status: string }).status;
    }
    expect(status).toBe('finished');
  });
});
