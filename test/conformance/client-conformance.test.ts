/**
 * Conformance: our TIC client (lib/tic/client.ts) against the emulator, over HTTP only.
 * Every endpoint, every error code, the client's retry policy as the emulator sees it,
 * its timeout on a hung endpoint, and the callback retry schedule.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../emulator/index';
import { createTicClient, type TicCallEvent, type TicClientOptions } from '../../lib/tic/client';
import { TicError } from '../../lib/tic/errors';
import { ANSWER_OK, CallbackReceiver, FAST, md5Hex, sleep, waitFor } from '../emulator/helpers';

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
beforeEach(() => {
  emulator.reset();
  receiver.received.length = 0;
  receiver.policy = () => ANSWER_OK;
});

/** A client of the emulator with fast retries; `events` collects its onCall reports. */
function clientOf(overrides: Partial<TicClientOptions> = {}) {
  const events: TicCallEvent[] = [];
  const client = createTicClient({
    baseUrl: emulator.url,
    sdkappid: FAST.sdkappid,
    credentials: { mode: 'key', ticKey: FAST.ticKey },
    timeoutMs: 1_000,
    retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 },
    onCall: (event) => events.push(event),
    ...overrides,
  });
  return { client, events };
}

/** The TicError a promise rejects with. */
async function failure(promise: Promise<unknown>): Promise<TicError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(TicError);
  return error as TicError;
}

const recorder = (roomId: number, suffix = '1') => ({ roomId, userId: `tic_record_user_${roomId}_${suffix}`, userSig: 'a usersig' });

describe('every endpoint', () => {
  it('setCallback, start, query, stop: a whole recording, with both callbacks received and signed', async () => {
    const { client } = clientOf();
    await client.setCallback(`${receiver.url}/tic?token=abc`);
    emulator.join(900, 'teacher');
    const { taskId, random } = await client.start({ ...recorder(900), groupId: 'g900', whiteboard: { width: 1920 } });
    expect(random).toBeGreaterThan(0);
    expect(emulator.task(taskId)).toMatchObject({ groupId: 'g900', whiteboard: { width: 1920, height: 960 } });
    await waitFor(async () => (await client.query(taskId)).answer.status === 'recording');
    await client.stop(taskId);
    const finished = await waitFor(async () => {
      const { answer } = await client.query(taskId);
      return answer.status === 'finished' && answer;
    });
    expect(finished.video_info.map((video) => video.video_type)).toEqual([0, 2]);
    await waitFor(() => receiver.callbacks().length === 2);
    for (const callback of receiver.callbacks()) {
      expect(callback.query.get('sign')).toBe(md5Hex(`${FAST.ticKey}${callback.body['expire_time']}`));
    }
    expect(receiver.callbacks('record_finished')[0]!.body['video_info']).toEqual(finished.video_info);
  });

  it('a trial account’s fixed sign works through the client', async () => {
    const expireTime = Math.floor(Date.now() / 1000) + 3600;
    const trialSign = md5Hex(`SOME-OTHER-KEY${expireTime}`);
    const trial = await startEmulator({ ...FAST, trialSign, trialExpireTime: expireTime });
    try {
      const client = createTicClient({ baseUrl: trial.url, sdkappid: FAST.sdkappid, credentials: { mode: 'trial', sign: trialSign, expireTime } });
      const { taskId } = await client.start(recorder(901));
      expect((await client.query(taskId)).answer.task_id).toBe(taskId);
    } finally {
      await trial.close();
    }
  });
});

describe('every error code, as a TicError', () => {
  it('20000 for another sdkappid: not retried', async () => {
    const { client, events } = clientOf({ sdkappid: 1400000099 });
    const error = await failure(client.query('g68cee8e90jcq4ogg8jb'));
    expect({ code: error.code, kind: error.kind, retryable: error.retryable }).toEqual({ code: 20000, kind: 'upstream', retryable: false });
    expect(events).toHaveLength(1);
  });

  it('20001 when the client’s clock is behind: it re-signs once, then gives up', async () => {
    const { client, events } = clientOf({ nowMs: () => Date.now() - 3_600_000 });
    const error = await failure(client.query('g68cee8e90jcq4ogg8jb'));
    expect(error.code).toBe(20001);
    expect(events.map((event) => event.code)).toEqual([20001, 20001]);
    expect(emulator.stats().requests.query).toBe(2);
  });

  it('20001 then a correct clock: the re-signed retry succeeds, even for start', async () => {
    let calls = 0;
    const { client, events } = clientOf({ nowMs: () => (calls++ === 0 ? Date.now() - 3_600_000 : Date.now()) });
    const { taskId } = await client.start(recorder(902));
    expect(emulator.task(taskId)).toBeDefined();
    expect(events.map((event) => event.outcome)).toEqual(['error', 'ok']);
    expect(emulator.stats().requests.start).toBe(2);
    expect(emulator.tasks()).toHaveLength(1);
  });

  it('20002 for a wrong TicKey: not retried, and the error carries neither key nor sign', async () => {
    const { client, events } = clientOf({ credentials: { mode: 'key', ticKey: 'WRONGKEYWRONGKEYWRONGKEYWRONGKEY' } });
    const error = await failure(client.query('g68cee8e90jcq4ogg8jb'));
    expect(error.code).toBe(20002);
    expect(events).toHaveLength(1);
    expect(`${error.message} ${error.upstreamMessage}`).not.toContain('WRONGKEY');
  });

  it('20003 for a user_id that is not tic_record_user_{room}_…, naming the field', async () => {
    const { client } = clientOf();
    const error = await failure(client.start({ ...recorder(903), userId: 'teacher' }));
    expect(error.code).toBe(20003);
    expect(error.upstreamMessage).toContain('user_id');
    expect(emulator.stats().requests.start).toBe(1);
  });

  it('20004 for an unreachable callback URL: not retried', async () => {
    const { client, events } = clientOf();
    const error = await failure(client.setCallback('http://127.0.0.1:1/callback'));
    expect(error.code).toBe(20004);
    expect(events).toHaveLength(1);
  });

  it('20005 for an unknown task: retried (it may be transient), then thrown', async () => {
    const { client } = clientOf();
    const error = await failure(client.query('g68cee8e90jcq4ogg8jb'));
    expect(error.code).toBe(20005);
    expect(emulator.stats().requests.query).toBe(3);
    expect((await failure(client.stop('g68cee8e90jcq4ogg8jb'))).code).toBe(20005);
  });

  it('20011 for a stop after the task ended: thrown once, not retried', async () => {
    const { client, events } = clientOf();
    const { taskId } = await client.start(recorder(904));
    await client.stop(taskId);
    await waitFor(() => emulator.task(taskId)?.state === 'finished');
    events.length = 0;
    const error = await failure(client.stop(taskId));
    expect({ code: error.code, retryable: error.retryable }).toEqual({ code: 20011, retryable: false });
    expect(events).toHaveLength(1);
  });

  it('20099 on query: recovered after errorNext 1, exhausted after maxAttempts', async () => {
    const { client, events } = clientOf();
    emulator.setFaults({ query: { errorNext: 1 } });
    const { taskId } = await client.start(recorder(905));
    expect((await client.query(taskId)).answer.task_id).toBe(taskId);
    expect(events.filter((event) => event.operation === 'query').map((event) => event.code)).toEqual([20099, 0]);

    emulator.setFaults({ query: { errorNext: 10 } });
    const error = await failure(client.query(taskId));
    expect(error.code).toBe(20099);
    expect(emulator.stats().faults.errors.query).toBe(1 + 3);
  });

  it('20099 on stop and setCallback is retried too', async () => {
    const { client } = clientOf();
    const { taskId } = await client.start(recorder(906));
    emulator.setFaults({ stop: { errorNext: 2 }, callback: { errorNext: 1 } });
    await client.stop(taskId);
    await client.setCallback(`${receiver.url}/x`);
    expect(emulator.stats().requests).toMatchObject({ stop: 3, callback: 2 });
  });
});

describe('start is never repeated blindly', () => {
  it('20099 on start: thrown at once, exactly one start reached the emulator', async () => {
    const { client } = clientOf();
    emulator.setFaults({ start: { errorNext: 1 } });
    const error = await failure(client.start(recorder(907)));
    expect(error.code).toBe(20099);
    expect(error.retryable).toBe(false);
    expect(emulator.stats().requests.start).toBe(1);
  });

  it('a hung start (that did take effect) times out once; the task exists upstream, as the backend must assume', async () => {
    const { client } = clientOf({ timeoutMs: 200 });
    await client.setCallback(`${receiver.url}/tic`);
    emulator.setFaults({ start: { hangNext: 1, afterEffect: true } });
    const error = await failure(client.start(recorder(908)));
    expect(error.kind).toBe('timeout');
    expect(emulator.stats().requests.start).toBe(1);
    expect(emulator.tasks()).toHaveLength(1);
    const started = await waitFor(() => receiver.callbacks('record_started')[0]);
    expect(started.body['task_id']).toBe(emulator.tasks()[0]!.taskId);
  });
});

describe('timeouts', () => {
  it('a hung query times out and is retried; the next attempt is answered', async () => {
    const { client, events } = clientOf({ timeoutMs: 200 });
    const { taskId } = await client.start(recorder(909));
    emulator.setFaults({ query: { hangNext: 1 } });
    const { answer } = await client.query(taskId);
    expect(answer.task_id).toBe(taskId);
    expect(events.filter((event) => event.operation === 'query').map((event) => event.outcome)).toEqual(['error', 'ok']);
    expect(emulator.stats().faults.hangs.query).toBe(1);
  });

  it('a query that always hangs ends in a timeout TicError after maxAttempts', async () => {
    const { client } = clientOf({ timeoutMs: 150 });
    emulator.setFaults({ query: { hangRate: 1 } });
    const error = await failure(client.query('g68cee8e90jcq4ogg8jb'));
    expect({ kind: error.kind, retryable: error.retryable }).toEqual({ kind: 'timeout', retryable: true });
    expect(emulator.stats().requests.query).toBe(3);
  });
});

describe('the callback retry schedule (time-scaled: every 100 ms, up to 3 retries)', () => {
  it('a receiver that fails twice gets three attempts, at least an interval apart, then no more', async () => {
    const { client } = clientOf();
    await client.setCallback(`${receiver.url}/tic`);
    let failuresLeft = 2;
    receiver.policy = (request) => {
      if (request.body['callback_type'] !== 'record_started') return ANSWER_OK;
      return failuresLeft-- > 0 ? { status: 500, body: 'oops' } : ANSWER_OK;
    };
    await client.start(recorder(910));
    await waitFor(() => emulator.stats().callbacks.delivered === 1);
    await sleep(FAST.callbackRetryIntervalMs * 3);
    const attempts = receiver.callbacks('record_started');
    expect(attempts).toHaveLength(3);
    for (let index = 1; index < attempts.length; index += 1) {
      expect(attempts[index]!.receivedAtMs - attempts[index - 1]!.receivedAtMs).toBeGreaterThanOrEqual(FAST.callbackRetryIntervalMs - 5);
    }
  });

  it('a receiver that always fails gets 1 + 3 attempts and is then given up on', async () => {
    const { client } = clientOf();
    await client.setCallback(`${receiver.url}/tic`);
    receiver.policy = (request) => (request.body['callback_type'] ? { status: 200, body: '{"error_code":1}' } : ANSWER_OK);
    await client.start(recorder(911));
    await waitFor(() => emulator.stats().callbacks.gaveUp === 1);
    await sleep(FAST.callbackRetryIntervalMs * 2);
    expect(receiver.callbacks('record_started')).toHaveLength(4);
  });
});
