/**
 * Every error code of the vendor document (section 5) under its condition, the check
 * order, and requests that are no requests at all (wrong method, path, body, size).
 * Raw HTTP, no client code.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../emulator/index';
import { CallbackReceiver, FAST, callVendor, md5Hex, nowSeconds, startBody, startTask, waitFor } from './helpers';

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
beforeEach(() => emulator.reset());

const answerOf = (json: Record<string, unknown>) => ({ code: json['error_code'], msg: json['error_msg'] });

describe('20000: service not enabled', () => {
  it.each([
    ['another sdkappid', '1400000002'],
    ['a missing sdkappid', null],
    ['a non-numeric sdkappid', 'abc'],
  ])('refuses %s', async (_label, sdkappid) => {
    const { status, json } = await callVendor(emulator, { path: 'query', sdkappid, body: { task_id: 'x' } });
    expect(status).toBe(200);
    expect(json['error_code']).toBe(20000);
  });
});

describe('20001: signature expired', () => {
  it('refuses an expire_time in the past, even with its correct sign', async () => {
    const { json } = await callVendor(emulator, { path: 'query', expireTime: nowSeconds() - 10, body: { task_id: 'x' } });
    expect(json['error_code']).toBe(20001);
  });
});

describe('20002: signature check failed', () => {
  it('refuses a sign made with another key', async () => {
    const { json } = await callVendor(emulator, { path: 'query', ticKey: 'ANOTHERKEY', body: { task_id: 'x' } });
    expect(json['error_code']).toBe(20002);
  });
  it('refuses a sign made for another expire_time', async () => {
    const { json } = await callVendor(emulator, { path: 'query', sign: md5Hex(`${FAST.ticKey}${nowSeconds() + 999}`), body: { task_id: 'x' } });
    expect(json['error_code']).toBe(20002);
  });
  it('refuses a missing sign', async () => {
    const { json } = await callVendor(emulator, { path: 'query', sign: null, body: { task_id: 'x' } });
    expect(json['error_code']).toBe(20002);
  });
  it('accepts the sign in upper case (the same digest)', async () => {
    const expireTime = nowSeconds() + 60;
    const { json } = await callVendor(emulator, { path: 'query', expireTime, sign: md5Hex(`${FAST.ticKey}${expireTime}`).toUpperCase(), body: { task_id: 'x' } });
    expect(json['error_code']).toBe(20005);
  });
});

describe('20003: request could not be parsed, naming the field', () => {
  it.each([
    ['room_id missing', { user_id: 'tic_record_user_7_1', user_sig: 's' }, 'room_id: missing'],
    ['room_id a string', { room_id: '7', user_id: 'tic_record_user_7_1', user_sig: 's' }, 'room_id: expected int'],
    ['room_id fractional', { room_id: 7.5, user_id: 'tic_record_user_7_1', user_sig: 's' }, 'room_id: expected int'],
    ['room_id zero', { room_id: 0, user_id: 'tic_record_user_0_1', user_sig: 's' }, 'room_id: expected a positive int'],
    ['user_id of another room', startBody(7, '1', { user_id: 'tic_record_user_8_1' }), 'user_id:'],
    ['user_id without suffix', startBody(7, '1', { user_id: 'tic_record_user_7_' }), 'user_id:'],
    ['user_id a number', startBody(7, '1', { user_id: 5 }), 'user_id: expected string'],
    ['user_sig missing', { room_id: 7, user_id: 'tic_record_user_7_1' }, 'user_sig: missing'],
    ['user_sig empty', startBody(7, '1', { user_sig: '' }), 'user_sig:'],
    ['group_id a number', startBody(7, '1', { group_id: 7 }), 'group_id: expected string'],
    ['whiteboard a string', startBody(7, '1', { whiteboard: '1280x960' }), 'whiteboard: expected object'],
    ['whiteboard.width a string', startBody(7, '1', { whiteboard: { width: 'wide' } }), 'whiteboard.width: expected int'],
  ])('start with %s', async (_label, body, message) => {
    const { json } = await callVendor(emulator, { path: 'start', body });
    expect(json['error_code']).toBe(20003);
    expect(json['error_msg']).toContain(message);
    expect(emulator.tasks()).toHaveLength(0);
  });

  it.each(['stop', 'query'] as const)('%s without task_id, or with a number', async (path) => {
    expect(answerOf((await callVendor(emulator, { path, body: {} })).json)).toEqual({ code: 20003, msg: 'task_id: missing' });
    expect(answerOf((await callVendor(emulator, { path, body: { task_id: 42 } })).json)).toEqual({ code: 20003, msg: 'task_id: expected string' });
  });

  it('callback without a URL, or with something that is not an http(s) URL', async () => {
    expect((await callVendor(emulator, { path: 'callback', body: {} })).json['error_msg']).toBe('callback: missing');
    const { json } = await callVendor(emulator, { path: 'callback', body: { callback: 'ftp://example.com/x' } });
    expect(answerOf(json)).toEqual({ code: 20003, msg: 'callback: expected an http(s) URL' });
  });

  it.each([
    ['missing', null, 'random: missing'],
    ['zero', '0', 'random: expected a positive int32'],
    ['negative', '-5', 'random: expected a positive int32'],
    ['above int32', '2147483648', 'random: expected a positive int32'],
    ['not a number', 'abc', 'random: expected a positive int32'],
  ])('random %s', async (_label, random, message) => {
    const { json } = await callVendor(emulator, { path: 'query', random, body: { task_id: 'x' } });
    expect(answerOf(json)).toEqual({ code: 20003, msg: message });
  });

  it('expire_time missing or not an int', async () => {
    expect((await callVendor(emulator, { path: 'query', expireTime: null, sign: 'x', body: { task_id: 'x' } })).json['error_msg']).toBe('expire_time: missing');
    const { json } = await callVendor(emulator, { path: 'query', sign: 'x', expireTime: null, body: { expire_time: '123', task_id: 'x' } });
    expect(answerOf(json)).toEqual({ code: 20003, msg: 'expire_time: expected int' });
  });

  it.each([
    ['malformed JSON', '{"expire_time": 1,', 'body: not valid JSON'],
    ['a JSON array', '[1,2]', 'body: expected a JSON object'],
    ['an empty body', '', 'body: not valid JSON'],
  ])('a body that is %s', async (_label, rawBody, message) => {
    const { status, json } = await callVendor(emulator, { path: 'start', rawBody });
    expect(status).toBe(200);
    expect(answerOf(json)).toEqual({ code: 20003, msg: message });
  });

  it('a body that is not declared as JSON', async () => {
    const { json } = await callVendor(emulator, { path: 'query', contentType: 'text/plain', body: { task_id: 'x' } });
    expect(answerOf(json)).toEqual({ code: 20003, msg: 'content-type: expected application/json' });
  });

  it('a body larger than 64 KiB is refused without being read, in the documented shape', async () => {
    const { status, json } = await callVendor(emulator, { path: 'start', body: startBody(7, '1', { padding: 'x'.repeat(200_000) }) });
    expect(status).toBe(413);
    expect(answerOf(json)).toEqual({ code: 20003, msg: 'body too large' });
    // The emulator still answers afterwards.
    expect((await callVendor(emulator, { path: 'query', body: { task_id: 'x' } })).json['error_code']).toBe(20005);
  });

  it('a chunked body that grows past the limit is cut off the same way', async () => {
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let index = 0; index < 100; index += 1) controller.enqueue(new TextEncoder().encode('x'.repeat(1024)));
        controller.close();
      },
    });
    const response = await fetch(`${emulator.url}/record/v1/online/start?sdkappid=${FAST.sdkappid}&random=1&sign=x`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: chunks,
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ error_code: 20003, error_msg: 'body too large' });
  });
});

describe('20004: setting the callback URL failed', () => {
  it('when nothing listens at the URL', async () => {
    const { json } = await callVendor(emulator, { path: 'callback', body: { callback: 'http://127.0.0.1:1/callback' } });
    expect(json['error_code']).toBe(20004);
  });

  it.each([
    ['a non-2xx status', { status: 500, body: '{"error_code":0}' }],
    ['another error_code', { status: 200, body: '{"error_code":1}' }],
    ['a body that is not JSON', { status: 200, body: 'ok' }],
  ])('when the URL answers %s', async (_label, answer) => {
    receiver.policy = () => answer;
    const { json } = await callVendor(emulator, { path: 'callback', body: { callback: `${receiver.url}/cb` } });
    expect(json['error_code']).toBe(20004);
    receiver.policy = () => ({ status: 200, body: '{"error_code":0}' });
  });

  it('when the URL does not answer in time', async () => {
    const slow = await startEmulator({ ...FAST, callbackTimeoutMs: 100 });
    receiver.policy = () => 'hang';
    try {
      const { json } = await callVendor(slow, { path: 'callback', body: { callback: `${receiver.url}/cb` } });
      expect(json['error_code']).toBe(20004);
    } finally {
      receiver.policy = () => ({ status: 200, body: '{"error_code":0}' });
      await slow.close();
    }
  });

  it('succeeds when the test request is answered {"error_code":0}; the test request is signed and has no callback_type', async () => {
    const before = receiver.received.length;
    const { json } = await callVendor(emulator, { path: 'callback', body: { callback: `${receiver.url}/cb?token=secret` } });
    expect(answerOf(json)).toEqual({ code: 0, msg: 'ok' });
    const test = receiver.received[before]!;
    expect(test.body['callback_type']).toBeUndefined();
    expect(test.query.get('token')).toBe('secret');
    expect(test.query.get('sdkappid')).toBe(String(FAST.sdkappid));
    expect(test.query.get('sign')).toBe(md5Hex(`${FAST.ticKey}${test.body['expire_time']}`));
    // An empty string removes it: later callbacks go nowhere.
    expect((await callVendor(emulator, { path: 'callback', body: { callback: '' } })).json['error_code']).toBe(0);
    const control = (await fetch(`${emulator.url}/_emulator/callbacks`).then((response) => response.json())) as { callbackOrigin: string | null };
    expect(control.callbackOrigin).toBeNull();
  });
});

describe('20005 and 20011', () => {
  it('20005 for an unknown task_id on stop and query', async () => {
    for (const path of ['stop', 'query'] as const) {
      expect((await callVendor(emulator, { path, body: { task_id: 'g68cee8e90jcq4ogg8jb' } })).json['error_code']).toBe(20005);
    }
  });

  it('20011 for a stop after the task ended; a repeated stop before that changes nothing', async () => {
    const taskId = await startTask(emulator, 31);
    expect((await callVendor(emulator, { path: 'stop', body: { task_id: taskId } })).json['error_code']).toBe(0);
    expect((await callVendor(emulator, { path: 'stop', body: { task_id: taskId } })).json['error_code']).toBe(0);
    await waitFor(() => emulator.task(taskId)?.state === 'finished');
    expect((await callVendor(emulator, { path: 'stop', body: { task_id: taskId } })).json['error_code']).toBe(20011);
    expect(emulator.stats().tasks.stopped).toBe(1);
  });
});

describe('20099: internal error', () => {
  it('is answered while a fault is switched on', async () => {
    emulator.setFaults({ query: { errorNext: 1 } });
    expect((await callVendor(emulator, { path: 'query', body: { task_id: 'x' } })).json['error_code']).toBe(20099);
    expect((await callVendor(emulator, { path: 'query', body: { task_id: 'x' } })).json['error_code']).toBe(20005);
  });
});

describe('check order', () => {
  it('sdkappid before random, random before body, body before expire_time, expire_time before sign, sign before fields', async () => {
    const past = nowSeconds() - 100;
    // Everything wrong: the sdkappid is reported.
    expect((await callVendor(emulator, { path: 'start', sdkappid: '1', random: null, rawBody: 'x' })).json['error_code']).toBe(20000);
    // Then random.
    expect((await callVendor(emulator, { path: 'start', random: null, rawBody: 'x' })).json['error_msg']).toBe('random: missing');
    // Then the body.
    expect((await callVendor(emulator, { path: 'start', rawBody: 'x' })).json['error_msg']).toBe('body: not valid JSON');
    // Then the expiry, before the sign.
    expect((await callVendor(emulator, { path: 'start', expireTime: past, sign: 'wrong', body: {} })).json['error_code']).toBe(20001);
    // Then the sign, before the fields.
    expect((await callVendor(emulator, { path: 'start', sign: 'wrong', body: {} })).json['error_code']).toBe(20002);
    // Then the fields.
    expect((await callVendor(emulator, { path: 'start', body: {} })).json['error_msg']).toBe('room_id: missing');
  });

  it('faults fire only on authenticated requests', async () => {
    emulator.setFaults({ query: { errorNext: 1 } });
    expect((await callVendor(emulator, { path: 'query', sign: 'wrong', body: { task_id: 'x' } })).json['error_code']).toBe(20002);
    expect((await callVendor(emulator, { path: 'query', body: { task_id: 'x' } })).json['error_code']).toBe(20099);
  });
});

describe('not requests at all', () => {
  it('answers another method with 405 in the documented shape', async () => {
    const response = await fetch(`${emulator.url}/record/v1/online/start`);
    expect(response.status).toBe(405);
    expect(await response.json()).toEqual({ error_code: 20003, error_msg: 'method not allowed: use POST' });
  });

  it.each(['/ppt2h5/v1/callback', '/record/v1/online/nope', '/', '/%E0%A4%A'])('answers %s with 404 in the documented shape', async (path) => {
    const response = await fetch(`${emulator.url}${path}`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(404);
    const json = await response.json();
    expect(json).toEqual({ error_code: 20003, error_msg: 'no such endpoint' });
  });

  it('counts requests per endpoint', async () => {
    await callVendor(emulator, { path: 'query', body: { task_id: 'x' } });
    await fetch(`${emulator.url}/elsewhere`, { method: 'POST' });
    const stats = emulator.stats();
    expect(stats.requests.query).toBe(1);
    expect(stats.requests.other).toBe(1);
    expect(stats.answers['20005']).toBe(1);
  });
});

describe('options', () => {
  it('maxFutureSeconds refuses an expire_time too far ahead, naming it', async () => {
    const strict = await startEmulator({ ...FAST, maxFutureSeconds: 600 });
    try {
      const { json } = await callVendor(strict, { path: 'query', expireTime: nowSeconds() + 3600, body: { task_id: 'x' } });
      expect(json['error_code']).toBe(20003);
      expect(json['error_msg']).toContain('expire_time');
    } finally {
      await strict.close();
    }
  });

  it('a trial account’s fixed sign is accepted with its expire_time only', async () => {
    const trialExpireTime = nowSeconds() + 3600;
    const trial = await startEmulator({ ...FAST, trialSign: 'd33bfea49d7f2795a4829c0d80047a7d', trialExpireTime });
    try {
      const ok = await callVendor(trial, { path: 'query', expireTime: trialExpireTime, sign: 'd33bfea49d7f2795a4829c0d80047a7d', body: { task_id: 'x' } });
      expect(ok.json['error_code']).toBe(20005);
      const other = await callVendor(trial, { path: 'query', expireTime: trialExpireTime + 1, sign: 'd33bfea49d7f2795a4829c0d80047a7d', body: { task_id: 'x' } });
      expect(other.json['error_code']).toBe(20002);
    } finally {
      await trial.close();
    }
  });

  it('refuses nonsense settings, naming them', async () => {
    await expect(startEmulator({ startDelayMs: -1 })).rejects.toThrow('startDelayMs');
    await expect(startEmulator({ trialSign: 'abc' })).rejects.toThrow('trialSign');
  });
});
