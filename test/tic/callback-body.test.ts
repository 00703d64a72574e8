import { describe, expect, it } from 'vitest';
import { MAX_CALLBACK_BODY_BYTES, parseCallbackBody } from '../../lib/tic/callback-body';

/** Vendor document 4.5.1, the body verbatim (note the trailing comma). */
const STARTED_EXAMPLE_4_5_1 = `{
    "error_code":0,
    "error_msg":"",
    "expire_time":1529908745,
    "timestamp": 1529908745,
    "task_id": "g68cee8e90jcq4ogg8jb",
    "callback_type": "record_started",
    "record_user_id":"tic_record_user_1234_01",
    "room_id":1234,
    "group_id":"1234",
}`;

/** Vendor document 4.5.2, the body verbatim (note the missing commas after video_play_time and video_duration). */
const FINISHED_EXAMPLE_4_5_2 = `{
    "error_code":0,
    "error_msg":"",
    "expire_time":1529908745,
    "timestamp": 1529908745,
    "task_id": "g68cee8e90jcq4ogg8jb",
    "callback_type": "record_finished",
    "record_user_id":"tic_record_user_1234_01",
    "start_time": 1529908745,
    "stop_time": 1529908745,
    "room_id":1234,
    "group_id":"1234",
    "video_info":[
        {
            "video_play_time":0
            "video_size":1200,
            "video_format":"mp4",
            "video_duration":3600
            "video_url":"http://1253488539.vod2.myqcloud.com/oM86K7X3Ig8b.mp4",
            "video_id":"5285890781570653827",
            "video_type":0,
            "user_id":"ios_test1"
        },
        {
            "video_play_time":4000
            "video_size":3756,
            "video_format":"mp4",
            "video_duration":5000
            "video_url":"http://1253488539.vod2.myqcloud.com/oM86K7X3IsdfA.mp4",
            "video_id":"5285890781570653828",
            "video_type":2,
            "user_id":"pc_test1"
        }
    ]
}`;

const startedBody = {
  error_code: 0,
  error_msg: '',
  expire_time: 1529908745,
  timestamp: 1529908745,
  task_id: 'g68cee8e90jcq4ogg8jb',
  callback_type: 'record_started',
  record_user_id: 'tic_record_user_1234_01',
  room_id: 1234,
  group_id: '1234',
};

const finishedBody = {
  ...startedBody,
  callback_type: 'record_finished',
  start_time: 1529908745,
  stop_time: 1529908745,
  video_info: [
    {
      video_play_time: 0,
      video_size: 1200,
      video_format: 'mp4',
      video_duration: 3600,
      video_url: 'http://1253488539.vod2.myqcloud.com/oM86K7X3Ig8b.mp4',
      video_id: '5285890781570653827',
      video_type: 0,
      user_id: 'ios_test1',
    },
  ],
};

describe('parseCallbackBody', () => {
  it('repairs the 4.5.1 example (trailing comma) into a record_started callback', () => {
    expect(parseCallbackBody(STARTED_EXAMPLE_4_5_1)).toEqual({ kind: 'callback', repaired: true, callback: startedBody });
  });

  it('repairs the 4.5.2 example (missing commas) into a record_finished callback with both videos', () => {
    const parsed = parseCallbackBody(FINISHED_EXAMPLE_4_5_2);
    expect(parsed.kind).toBe('callback');
    if (parsed.kind !== 'callback') return;
    expect(parsed.repaired).toBe(true);
    expect(parsed.callback.callback_type).toBe('record_finished');
    if (parsed.callback.callback_type !== 'record_finished') return;
    expect(parsed.callback.task_id).toBe('g68cee8e90jcq4ogg8jb');
    expect(parsed.callback.room_id).toBe(1234);
    expect(parsed.callback.start_time).toBe(1529908745);
    expect(parsed.callback.video_info).toEqual([
      {
        video_play_time: 0,
        video_size: 1200,
        video_format: 'mp4',
        video_duration: 3600,
        video_url: 'http://1253488539.vod2.myqcloud.com/oM86K7X3Ig8b.mp4',
        video_id: '5285890781570653827',
        video_type: 0,
        user_id: 'ios_test1',
      },
      {
        video_play_time: 4000,
        video_size: 3756,
        video_format: 'mp4',
        video_duration: 5000,
        video_url: 'http://1253488539.vod2.myqcloud.com/oM86K7X3IsdfA.mp4',
        video_id: '5285890781570653828',
        video_type: 2,
        user_id: 'pc_test1',
      },
    ]);
  });

  it('parses valid JSON without repair', () => {
    expect(parseCallbackBody(JSON.stringify(finishedBody))).toEqual({
      kind: 'callback',
      repaired: false,
      callback: finishedBody,
    });
  });

  it('tolerates unknown extra fields', () => {
    const parsed = parseCallbackBody(JSON.stringify({ ...startedBody, sdkappid: 1400042982, progress: 100 }));
    expect(parsed).toEqual({ kind: 'callback', repaired: false, callback: startedBody });
  });

  it('reads a record_finished without video_info, or with null, as no videos (CONTRACT.md item 9)', () => {
    const { video_info: _omitted, ...withoutVideos } = finishedBody;
    for (const body of [withoutVideos, { ...withoutVideos, video_info: null }, { ...withoutVideos, video_info: [] }]) {
      const parsed = parseCallbackBody(JSON.stringify(body));
      expect(parsed).toEqual({ kind: 'callback', repaired: false, callback: { ...withoutVideos, video_info: [] } });
    }
  });

  it('keeps a failed recording (non-zero error_code) as a callback', () => {
    const parsed = parseCallbackBody(JSON.stringify({ ...finishedBody, error_code: 20099, error_msg: 'failed' }));
    expect(parsed.kind === 'callback' && parsed.callback.error_code).toBe(20099);
  });

  it.each([
    ['{}', {}],
    ['{"hello":1}', { hello: 1 }],
    ['{"callback_type":"record_paused","task_id":"t"}', { callback_type: 'record_paused', task_id: 't' }],
    ['{"callback_type":5}', { callback_type: 5 }],
  ])('takes %s as the registration probe', (raw, body) => {
    expect(parseCallbackBody(raw)).toEqual({ kind: 'probe', repaired: false, body });
  });

  it('takes a repaired object without callback_type as a probe too', () => {
    expect(parseCallbackBody('{"test":true,}')).toEqual({ kind: 'probe', repaired: true, body: { test: true } });
  });

  it.each(['<html>502 Bad Gateway</html>', '', 'garbage {{{', '}{]['])(
    'keeps the raw text of an unparseable body %j',
    (raw) => {
      const parsed = parseCallbackBody(raw);
      expect(parsed).toMatchObject({ kind: 'invalid', raw });
    },
  );

  it.each(['[1,2]', 'null', '42', '"text"', 'hello world'])('refuses %s: not a JSON object', (raw) => {
    expect(parseCallbackBody(raw)).toEqual({ kind: 'invalid', reason: 'body is not a JSON object', raw });
  });

  it('refuses a string room_id, naming the field', () => {
    const raw = JSON.stringify({ ...startedBody, room_id: '1234' });
    const parsed = parseCallbackBody(raw);
    expect(parsed.kind).toBe('invalid');
    expect(parsed.kind === 'invalid' && parsed.reason).toMatch(/^room_id: /);
    expect(parsed.kind === 'invalid' && parsed.raw).toBe(raw);
  });

  it('refuses a missing task_id, naming the field', () => {
    const { task_id: _omitted, ...body } = startedBody;
    const parsed = parseCallbackBody(JSON.stringify(body));
    expect(parsed.kind === 'invalid' && parsed.reason).toMatch(/^task_id: /);
  });

  it('refuses a mistyped video field, naming its path', () => {
    const body = { ...finishedBody, video_info: [{ ...finishedBody.video_info[0], video_size: '1200' }] };
    const parsed = parseCallbackBody(JSON.stringify(body));
    expect(parsed.kind === 'invalid' && parsed.reason).toMatch(/^video_info\.0\.video_size: /);
  });

  it('refuses a fractional room_id', () => {
    expect(parseCallbackBody(JSON.stringify({ ...startedBody, room_id: 12.5 })).kind).toBe('invalid');
  });

  it('refuses a body over 1 MiB before parsing, keeping it', () => {
    const raw = JSON.stringify({ ...startedBody, padding: 'x'.repeat(MAX_CALLBACK_BODY_BYTES) });
    const parsed = parseCallbackBody(raw);
    expect(parsed).toEqual({ kind: 'invalid', reason: `body larger than ${MAX_CALLBACK_BODY_BYTES} bytes`, raw });
  });

  it('accepts a body of exactly 1 MiB', () => {
    const prefix = JSON.stringify({ ...startedBody, padding: '' });
    const raw = prefix.replace('"padding":""', `"padding":"${'x'.repeat(MAX_CALLBACK_BODY_BYTES - prefix.length)}"`);
    expect(Buffer.byteLength(raw)).toBe(MAX_CALLBACK_BODY_BYTES);
    expect(parseCallbackBody(raw).kind).toBe('callback');
  });
});
