/**
 * Callbacks as the vendor sends them (document 4.5): signed, shaped, retried until the
 * receiver answers {"error_code":0}, and the callback fault switches. Raw HTTP to a real
 * node:http receiver.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../emulator/index';
import { ANSWER_OK, CallbackReceiver, FAST, callVendor, control, md5Hex, nowSeconds, sleep, startTask, waitFor } from './helpers';

let emulator: RunningEmulator;
let receiver: CallbackReceiver;

beforeAll(async () => {
  emulator = await startEmulator({ ...FAST, idleStopMs: 60_000 });
  receiver = await new CallbackReceiver().start();
});
afterAll(async () => {
  await emulator.close();
  await receiver.close();
});
beforeEach(async () => {
  emulator.reset();
  receiver.received.length = 0;
  receiver.policy = () => ANSWER_OK;
  await callVendor(emulator, { path: 'callback', body: { callback: `${receiver.url}/tic/callback?token=t0k3n` } });
});

async function recordOnce(roomId: number): Promise<string> {
  const taskId = await startTask(emulator, roomId);
  await waitFor(() => emulator.task(taskId)?.state === 'recording');
  await callVendor(emulator, { path: 'stop', body: { task_id: taskId } });
  await waitFor(() => emulator.task(taskId)?.state === 'finished');
  return taskId;
}

describe('delivery', () => {
  it('sends record_started and record_finished, signed md5(TicKey + expire_time), shaped as document 4.5', async () => {
    const taskId = await recordOnce(11);
    await waitFor(() => receiver.callbacks().length === 2);
    const [started, finished] = receiver.callbacks();
    for (const request of [started!, finished!]) {
      expect(request.path).toBe('/tic/callback');
      expect(request.query.get('token')).toBe('t0k3n');
      expect(request.query.get('sdkappid')).toBe(String(FAST.sdkappid));
      const random = Number(request.query.get('random'));
      expect(Number.isInteger(random) && random > 0 && random <= 2_147_483_647).toBe(true);
      const expireTime = request.body['expire_time'] as number;
      expect(expireTime).toBeGreaterThan(nowSeconds());
      expect(request.query.get('sign')).toBe(md5Hex(`${FAST.ticKey}${expireTime}`));
      expect(Math.abs((request.body['timestamp'] as number) - nowSeconds())).toBeLessThan(60);
    }
    expect(started!.body).toEqual({
      expire_time: started!.body['expire_time'],
      timestamp: started!.body['timestamp'],
      error_code: 0,
      error_msg: '',
      task_id: taskId,
      callback_type: 'record_started',
      record_user_id: 'tic_record_user_11_01',
      room_id: 11,
      group_id: '11',
    });
    const task = emulator.task(taskId)!;
    expect(finished!.body).toMatchObject({
      callback_type: 'record_finished',
      task_id: taskId,
      error_code: 0,
      start_time: Math.floor(task.recordingStartMs! / 1000),
      stop_time: Math.floor(task.recordingStopMs! / 1000),
      video_info: task.videos,
    });
    // The receiver has the request before the emulator has read its answer.
    await waitFor(() => emulator.stats().callbacks.delivered === 2);
    expect(emulator.stats().callbacks).toMatchObject({ queued: 2, attempts: 2, failedAttempts: 0, retried: 0 });
  });

  it('does not send callbacks when no URL is set', async () => {
    await callVendor(emulator, { path: 'callback', body: { callback: '' } });
    const taskId = await recordOnce(12);
    await sleep(50);
    expect(receiver.callbacks().filter((request) => request.body['task_id'] === taskId)).toHaveLength(0);
    expect(emulator.stats().callbacks.noUrl).toBe(2);
  });
});

describe('retries', () => {
  it.each([
    ['HTTP 500', { status: 500, body: '{"error_code":0}' }],
    ['another error_code', { status: 200, body: '{"error_code":1}' }],
    ['a body that is not JSON', { status: 200, body: 'OK' }],
  ])('a receiver answering %s gets the first try and callbackMaxRetries retries, callbackRetryIntervalMs apart', async (_label, failure) => {
    receiver.policy = () => failure;
    const taskId = await startTask(emulator, 20);
    const attempts = await waitFor(() => {
      const started = receiver.callbacks('record_started');
      return started.length === 1 + FAST.callbackMaxRetries && started;
    });
    await waitFor(() => emulator.stats().callbacks.gaveUp === 1);
    await sleep(FAST.callbackRetryIntervalMs * 2);
    expect(receiver.callbacks('record_started')).toHaveLength(1 + FAST.callbackMaxRetries);
    for (let index = 1; index < attempts.length; index += 1) {
      expect(attempts[index]!.receivedAtMs - attempts[index - 1]!.receivedAtMs).toBeGreaterThanOrEqual(FAST.callbackRetryIntervalMs - 5);
      // Each attempt is signed afresh.
      expect(attempts[index]!.query.get('random')).not.toBe(attempts[index - 1]!.query.get('random'));
    }
    expect(emulator.stats().callbacks).toMatchObject({ attempts: 4, failedAttempts: 4, retried: 3, gaveUp: 1, delivered: 0 });
    const log = emulator.callbackAttempts().filter((attempt) => attempt.taskId === taskId);
    expect(log.map((attempt) => attempt.attempt)).toEqual([0, 1, 2, 3]);
    expect(JSON.stringify(log)).not.toContain('t0k3n');
  });

  it('stops retrying once the receiver answers {"error_code":0}', async () => {
    receiver.policy = (request, index) => (index < 3 ? { status: 503, body: '' } : ANSWER_OK);
    await startTask(emulator, 21);
    // The test request of beforeEach was index 0; attempts 1 and 2 fail, the third callback attempt succeeds.
    await waitFor(() => emulator.stats().callbacks.delivered === 1);
    await sleep(FAST.callbackRetryIntervalMs * 2);
    expect(receiver.callbacks('record_started')).toHaveLength(3);
    expect(emulator.stats().callbacks).toMatchObject({ failedAttempts: 2, retried: 2, gaveUp: 0 });
  });

  it('a receiver that does not answer in time counts as a failure and is retried', async () => {
    const impatient = await startEmulator({ ...FAST, callbackTimeoutMs: 100, callbackMaxRetries: 1 });
    try {
      await callVendor(impatient, { path: 'callback', body: { callback: `${receiver.url}/slow` } });
      receiver.policy = (request) => (request.path === '/slow' && request.body['callback_type'] ? 'hang' : ANSWER_OK);
      await startTask(impatient, 22);
      await waitFor(() => impatient.stats().callbacks.gaveUp === 1);
      expect(impatient.stats().callbacks.attempts).toBe(2);
      expect(impatient.callbackAttempts()[0]!.detail).toContain('no answer within 100 ms');
    } finally {
      await impatient.close();
    }
  });
});

describe('callback faults', () => {
  it('dropNext: the next callback is never sent at all', async () => {
    await control(emulator, 'POST', '/faults', { callbacks: { dropNext: 1 } });
    await recordOnce(30);
    await waitFor(() => receiver.callbacks('record_finished').length === 1);
    expect(receiver.callbacks('record_started')).toHaveLength(0);
    expect(emulator.stats().callbacks.dropped).toBe(1);
  });

  it('duplicateNext: the next callback is delivered twice', async () => {
    emulator.setFaults({ callbacks: { duplicateNext: 1 } });
    const taskId = await startTask(emulator, 31);
    await waitFor(() => receiver.callbacks('record_started').length === 2);
    const [first, second] = receiver.callbacks('record_started');
    expect(second!.body['task_id']).toBe(taskId);
    expect({ ...second!.body, timestamp: 0, expire_time: 0 }).toEqual({ ...first!.body, timestamp: 0, expire_time: 0 });
    expect(emulator.stats().callbacks.duplicated).toBe(1);
  });

  it('reorderNext: record_started is held back until after record_finished', async () => {
    emulator.setFaults({ callbacks: { reorderNext: 1 } });
    const taskId = await recordOnce(32);
    await waitFor(() => receiver.callbacks().length === 2);
    expect(receiver.callbacks().map((request) => request.body['callback_type'])).toEqual(['record_finished', 'record_started']);
    expect(receiver.callbacks().every((request) => request.body['task_id'] === taskId)).toBe(true);
    expect(emulator.stats().callbacks.reordered).toBe(1);
  });

  it('delayMs: every callback waits that much longer before its first attempt', async () => {
    emulator.setFaults({ callbacks: { delayMs: 200 } });
    const taskId = await startTask(emulator, 33);
    await waitFor(() => receiver.callbacks('record_started').length === 1);
    const startedAtMs = emulator.task(taskId)!.recordingStartMs!;
    expect(receiver.callbacks('record_started')[0]!.receivedAtMs - startedAtMs).toBeGreaterThanOrEqual(195);
  });

  it('rates: dropRate 1 drops everything; the same seed replays the same dice', async () => {
    emulator.setFaults({ callbacks: { dropRate: 1 } });
    await recordOnce(34);
    await sleep(100);
    expect(receiver.callbacks()).toHaveLength(0);
    expect(emulator.stats().callbacks.dropped).toBe(2);

    const outcomes = async () => {
      const seeded = await startEmulator({ ...FAST, seed: 42 });
      try {
        seeded.setFaults({ query: { errorRate: 0.5 } });
        const codes: unknown[] = [];
        for (let index = 0; index < 12; index += 1) codes.push((await callVendor(seeded, { path: 'query', body: { task_id: 'x' } })).json['error_code']);
        return codes;
      } finally {
        await seeded.close();
      }
    };
    const first = await outcomes();
    expect(first).toContain(20099);
    expect(first).toContain(20005);
    expect(await outcomes()).toEqual(first);
  });

  it('GET shows the switches and what is left of the counters; DELETE clears them; a bad body is refused', async () => {
    await control(emulator, 'POST', '/faults', { callbacks: { dropNext: 2 }, start: { errorNext: 1 } });
    await control(emulator, 'POST', '/faults', { stop: { hangRate: 0.1 } });
    let faults = (await control(emulator, 'GET', '/faults')).json;
    expect(faults.callbacks.dropNext).toBe(2);
    expect(faults.start.errorNext).toBe(1);
    expect(faults.stop.hangRate).toBe(0.1);
    faults = (await control(emulator, 'DELETE', '/faults')).json;
    expect(faults.callbacks.dropNext).toBe(0);
    expect(faults.start.errorNext).toBe(0);
    const bad = await control(emulator, 'POST', '/faults', { callbacks: { dropRate: 2 } });
    expect(bad.status).toBe(400);
    expect(bad.json.error_msg).toContain('callbacks.dropRate');
    expect((await control(emulator, 'POST', '/faults', { strat: {} })).status).toBe(400);
  });
});

describe('close and reset', () => {
  it('close() cancels pending retries: nothing arrives afterwards', async () => {
    const closing = await startEmulator({ ...FAST, callbackMaxRetries: 10 });
    await callVendor(closing, { path: 'callback', body: { callback: `${receiver.url}/closing` } });
    receiver.policy = (request) => (request.path === '/closing' && request.body['callback_type'] ? { status: 500, body: '' } : ANSWER_OK);
    await startTask(closing, 50);
    await waitFor(() => closing.stats().callbacks.failedAttempts >= 1);
    await closing.close();
    const countAtClose = receiver.received.filter((request) => request.path === '/closing').length;
    await sleep(FAST.callbackRetryIntervalMs * 3);
    expect(receiver.received.filter((request) => request.path === '/closing')).toHaveLength(countAtClose);
  });

  it('reset cancels pending retries of callbacks produced before it', async () => {
    receiver.policy = (request) => (request.body['callback_type'] ? { status: 500, body: '' } : ANSWER_OK);
    const taskId = await startTask(emulator, 51);
    await waitFor(() => emulator.stats().callbacks.failedAttempts >= 1);
    emulator.reset();
    await sleep(FAST.callbackRetryIntervalMs * 3);
    const late = receiver.callbacks().filter((request) => request.body['task_id'] === taskId);
    expect(late.length).toBeLessThanOrEqual(2);
    expect(emulator.stats().callbacks.attempts).toBe(0);
  });
});
