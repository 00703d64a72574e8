/**
 * The vendor document's own example requests (sections 4.1 to 4.4), sent as written with
 * only random/sdkappid/sign/expire_time made real, are answered as the document shows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOC_EXAMPLE_SDKAPPID, DOC_EXAMPLE_TIC_KEY, startEmulator, type RunningEmulator } from '../../emulator/index';
import { CallbackReceiver, md5Hex, nowSeconds, waitFor } from './helpers';

let emulator: RunningEmulator;
let receiver: CallbackReceiver;

beforeAll(async () => {
  // The document's sdkappid and TicKey are the defaults.
  emulator = await startEmulator({ startDelayMs: 50, stopDelayMs: 50, processingDelayMs: 50 });
  receiver = await new CallbackReceiver().start();
});
afterAll(async () => {
  await emulator.close();
  await receiver.close();
});

/** `请求URL：https://iclass.api.qcloud.com{path}?random=526919&sdkappid=1400127115&sign=...` */
async function docRequest(path: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const expireTime = nowSeconds() + 120;
  const sign = md5Hex(`${DOC_EXAMPLE_TIC_KEY}${expireTime}`);
  const response = await fetch(`${emulator.url}${path}?random=526919&sdkappid=${DOC_EXAMPLE_SDKAPPID}&sign=${sign}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ ...body, expire_time: expireTime }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

describe('document examples', () => {
  it('section 3: the signature example', () => {
    expect(md5Hex('9016607A382749C69D4F4B00C61DD0831548247837')).toBe('5400bac77ba6467a8f8ac056f1769f45');
  });

  it('4.4 callback, 4.1 start, 4.3 query, 4.2 stop', async () => {
    expect(await docRequest('/record/v1/online/callback', { callback: `${receiver.url}/task/callback` })).toEqual({ error_code: 0, error_msg: 'ok' });

    const start = await docRequest('/record/v1/online/start', {
      room_id: 1234,
      user_id: 'tic_record_user_1234_01',
      user_sig: 'valid usersig',
      whiteboard: { width: 1280, height: 960 },
    });
    expect(start).toEqual({ error_code: 0, error_msg: 'ok', task_id: expect.stringMatching(/^[a-z0-9]{20}$/) });
    const taskId = start['task_id'] as string;

    await waitFor(() => emulator.task(taskId)?.state === 'recording');
    expect(await docRequest('/record/v1/online/stop', { task_id: taskId })).toEqual({ error_code: 0, error_msg: 'ok' });
    await waitFor(() => emulator.task(taskId)?.state === 'finished');

    const query = await docRequest('/record/v1/online/query', { task_id: taskId });
    expect(Object.keys(query).sort()).toEqual(
      ['error_code', 'error_msg', 'task_id', 'status', 'start_time', 'stop_time', 'record_user_id', 'room_id', 'group_id', 'video_info'].sort(),
    );
    expect(query).toMatchObject({ error_code: 0, task_id: taskId, status: 'finished', room_id: 1234, group_id: '1234', record_user_id: 'tic_record_user_1234_01' });
    expect(query['video_info']).toEqual([expect.objectContaining({ video_type: 2, user_id: '', video_format: 'mp4', video_play_time: 0 })]);

    // 4.5: both callbacks reached the receiver with the document's sdkappid.
    await waitFor(() => receiver.callbacks().length === 2);
    expect(receiver.callbacks().every((request) => request.query.get('sdkappid') === String(DOC_EXAMPLE_SDKAPPID))).toBe(true);
  });

  it('the 4.4 example’s own path, /ppt2h5/v1/callback, is another product’s (CONTRACT.md item 5)', async () => {
    const response = await fetch(`${emulator.url}/ppt2h5/v1/callback?random=526919&sdkappid=${DOC_EXAMPLE_SDKAPPID}&sign=x`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(404);
  });
});
