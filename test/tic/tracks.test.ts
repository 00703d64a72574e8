import { describe, expect, it } from 'vitest';
import { queryAnswerSchema } from '../../lib/tic/schemas';
import { normalizeVideo, normalizeVideos } from '../../lib/tic/tracks';
import type { VideoInfo } from '../../lib/tic/wire';

/** The vendor document's 4.3 example answer, verbatim. */
const QUERY_EXAMPLE_4_3 = `{
    "error_code": 0,
    "error_msg": "",
    "task_id": "g68cee8e90jcq4ogg8jb",
    "status": "finished",
    "room_id": 1000135,
    "group_id": "1000135",
    "record_user_id": "tic_record_user_1000135_01",
    "start_time": 1557891712,
    "stop_time": 1557891712,
    "video_info": [
        {
            "user_id": "jepson",
            "video_duration": 22504,
            "video_format": "mp4",
            "video_id": "52858907621654352000418",
            "video_play_time": 25915,
            "video_size": 1431138,
            "video_type": 0,
            "video_url": "http://1257307760.vod2.myqcloud.com/f0.mp4"
        },
        {
            "user_id": "",
            "video_duration": 48832,
            "video_format": "mp4",
            "video_id": "52858907621654356352413",
            "video_play_time": 0,
            "video_size": 2948089,
            "video_type": 2,
            "video_url": "http://1257307760.vod2.myqcloud.com/f1.mp4"
        }
    ]
}`;

const video = (fields: Partial<VideoInfo>): VideoInfo => ({
  video_play_time: 0,
  video_size: 1,
  video_format: 'mp4',
  video_duration: 1000,
  video_url: 'http://vod.example/f.mp4',
  video_id: 'id',
  video_type: 0,
  user_id: 'u',
  ...fields,
});

describe('normalizeVideos', () => {
  it('reads the 4.3 example answer as a whiteboard from 0 and a camera from 25.915 s, durations in ms', () => {
    const answer = queryAnswerSchema.parse(JSON.parse(QUERY_EXAMPLE_4_3));
    const tracks = normalizeVideos(answer.video_info);
    expect(tracks.map(({ raw: _raw, ...track }) => track)).toEqual([
      {
        kind: 'whiteboard',
        videoType: 2,
        offsetMs: 0,
        durationMs: 48832,
        sizeBytes: 2948089,
        format: 'mp4',
        url: 'http://1257307760.vod2.myqcloud.com/f1.mp4',
        fileId: '52858907621654356352413',
        userId: '',
      },
      {
        kind: 'camera',
        videoType: 0,
        offsetMs: 25915,
        durationMs: 22504,
        sizeBytes: 1431138,
        format: 'mp4',
        url: 'http://1257307760.vod2.myqcloud.com/f0.mp4',
        fileId: '52858907621654352000418',
        userId: 'jepson',
      },
    ]);
    expect(tracks[1]?.raw).toEqual(answer.video_info[0]);
  });

  it('orders tracks at the same offset camera, screen, whiteboard, unknown, then by user and file', () => {
    const tracks = normalizeVideos([
      video({ video_type: 9, video_id: 'u9' }),
      video({ video_type: 2, user_id: '', video_id: 'wb' }),
      video({ video_type: 1, video_id: 's' }),
      video({ video_type: 0, user_id: 'b', video_id: 'cb' }),
      video({ video_type: 0, user_id: 'a', video_id: 'ca2' }),
      video({ video_type: 0, user_id: 'a', video_id: 'ca1' }),
      video({ video_type: 0, video_play_time: -1, video_id: 'early' }),
    ]);
    expect(tracks.map((track) => track.fileId)).toEqual(['early', 'ca1', 'ca2', 'cb', 's', 'wb', 'u9']);
  });

  it('does not change the list it is given', () => {
    const list = [video({ video_play_time: 5, video_id: 'late' }), video({ video_play_time: 1, video_id: 'early' })];
    normalizeVideos(list);
    expect(list.map((v) => v.video_id)).toEqual(['late', 'early']);
  });

  it('gives no tracks for no videos (CONTRACT.md item 9)', () => {
    expect(normalizeVideos([])).toEqual([]);
  });
});

describe('normalizeVideo', () => {
  it('keeps an unknown video_type as kind unknown with its number', () => {
    const track = normalizeVideo(video({ video_type: 7, user_id: 'x' }));
    expect(track.kind).toBe('unknown');
    expect(track.videoType).toBe(7);
    expect(track.userId).toBe('x');
  });

  it('reads a screen share', () => {
    expect(normalizeVideo(video({ video_type: 1 })).kind).toBe('screen');
  });

  it('gives the whiteboard an empty user id even when the vendor sends one (the 4.5.2 example does), keeping it raw', () => {
    const track = normalizeVideo(video({ video_type: 2, user_id: 'pc_test1' }));
    expect(track.userId).toBe('');
    expect(track.raw.user_id).toBe('pc_test1');
  });

  it('takes the format as given (flv in the 2.5 example)', () => {
    expect(normalizeVideo(video({ video_format: 'flv' })).format).toBe('flv');
  });
});
