/**
 * Endpoint fault switches: 20099 and hung calls, on demand and "after effect" (the call
 * does its work, the caller never learns it). Raw HTTP.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../emulator/index';
import { ANSWER_OK, CallbackReceiver, FAST, callVendor, startBody, startTask, waitFor } from './helpers';

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
  await callVendor(emulator, { path: 'callback', body: { callback: `${receiver.url}/cb` } });
});

describe('errorNext', () => {
  it('answers 20099 to the next N calls, then recovers; a plain fault has no effect', async () => {
    emulator.setFaults({ start: { errorNext: 2 } });
    for (let index = 0; index < 2; index += 1) {
      const { json } = await callVendor(emulator, { path: 'start', body: startBody(40) });
      expect(json['error_code']).toBe(20099);
    }
    expect(emulator.tasks()).toHaveLength(0);
    expect((await callVendor(emulator, { path: 'start', body: startBody(40) })).json['error_code']).toBe(0);
    expect(emulator.stats().faults.errors.start).toBe(2);
  });

  it('afterEffect: the stop happens although its answer is 20099', async () => {
    const taskId = await startTask(emulator, 41);
    emulator.setFaults({ stop: { errorNext: 1, afterEffect: true } });
    expect((await callVendor(emulator, { path: 'stop', body: { task_id: taskId } })).json['error_code']).toBe(20099);
    await waitFor(() => emulator.task(taskId)?.state === 'finished');
  });
});

describe('hangNext', () => {
  it('never answers the next call; the caller gives up, and later calls are answered', async () => {
    emulator.setFaults({ query: { hangNext: 1 } });
    await expect(callVendor(emulator, { path: 'query', body: { task_id: 'x' }, signal: AbortSignal.timeout(200) })).rejects.toThrow();
    expect((await callVendor(emulator, { path: 'query', body: { task_id: 'x' } })).json['error_code']).toBe(20005);
    expect(emulator.stats().faults.hangs.query).toBe(1);
  });

  it('afterEffect on start: the task is created and recorded, its record_started sent, but the caller never hears', async () => {
    emulator.setFaults({ start: { hangNext: 1, afterEffect: true } });
    await expect(callVendor(emulator, { path: 'start', body: startBody(42), signal: AbortSignal.timeout(300) })).rejects.toThrow();
    expect(emulator.tasks()).toHaveLength(1);
    const taskId = emulator.tasks()[0]!.taskId;
    const started = await waitFor(() => receiver.callbacks('record_started')[0]);
    expect(started.body['task_id']).toBe(taskId);
    expect(emulator.stats().requests.start).toBe(1);
  });

  it('close() returns although a call is hung', async () => {
    const other = await startEmulator(FAST);
    other.setFaults({ query: { hangNext: 1 } });
    const hung = callVendor(other, { path: 'query', body: { task_id: 'x' } });
    await waitFor(() => other.stats().faults.hangs.query === 1);
    await other.close();
    await expect(hung).rejects.toThrow();
  });
});

describe('rates', () => {
  it('hangRate 1 hangs every call of that endpoint only', async () => {
    emulator.setFaults({ stop: { hangRate: 1 } });
    await expect(callVendor(emulator, { path: 'stop', body: { task_id: 'x' }, signal: AbortSignal.timeout(100) })).rejects.toThrow();
    expect((await callVendor(emulator, { path: 'query', body: { task_id: 'x' } })).json['error_code']).toBe(20005);
  });
});

describe('reset', () => {
  it('forgets tasks, faults, counters and the callback URL', async () => {
    await startTask(emulator, 43);
    emulator.setFaults({ query: { errorNext: 5 } });
    const response = await fetch(`${emulator.url}/_emulator/reset`, { method: 'POST' });
    expect(response.status).toBe(200);
    expect(emulator.tasks()).toHaveLength(0);
    expect(emulator.faults().query.errorNext).toBe(0);
    expect(emulator.stats().requests.start).toBe(0);
    const callbacks = (await fetch(`${emulator.url}/_emulator/callbacks`).then((answer) => answer.json())) as { callbackOrigin: string | null };
    expect(callbacks.callbackOrigin).toBeNull();
  });
});
