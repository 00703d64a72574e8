/**
 * The videos a finished recording reports: one whiteboard video over the whole recording,
 * and one per stream segment that overlaps the recording window, cut to it.
 *
 * `video_play_time` is the offset from the start of the recording and `video_duration`
 * is in ms (CONTRACT.md items 1 and 2); `video_size` follows from a nominal bitrate.
 */
import type { VideoInfo } from '../lib/tic/wire';
import type { StreamSegment } from './rooms';

const VIDEO_TYPE = { camera: 0, screen: 1, whiteboard: 2 } as const;

/** Nominal bitrates, bits per second, to make `video_size` plausible. */
const BITRATE_BITS_PER_SECOND = { camera: 600_000, screen: 1_000_000, whiteboard: 200_000 } as const;

/** VOD fileIds look like `5285890781570653827`: a fixed prefix and a counter, 19 digits. */
const FILE_ID_PREFIX = '5285890';
const FILE_ID_COUNTER_DIGITS = 12;

export interface RecordingWindow {
  startMs: number;
  stopMs: number;
}

export class VideoCatalog {
  private nextFileNumber = 1;
  private readonly files = new Map<string, VideoInfo>();

  /** `baseUrl()` is read when videos are made, so it reflects the port actually bound. */
  constructor(private readonly baseUrl: () => string) {}

  reset(): void {
    this.files.clear();
  }

  get(fileId: string): VideoInfo | undefined {
    return this.files.get(fileId);
  }

  /** The videos of a recording over `window`, from the room's stream segments. */
  videosFor(window: RecordingWindow, segments: StreamSegment[]): VideoInfo[] {
    const videos: VideoInfo[] = [];
    const ordered = [...segments].sort((a, b) => a.startMs - b.startMs);
    for (const segment of ordered) {
      const fromMs = Math.max(segment.startMs, window.startMs);
      const toMs = Math.min(segment.endMs ?? window.stopMs, window.stopMs);
      if (toMs <= fromMs) continue;
      videos.push(this.make(segment.kind, segment.userId, fromMs - window.startMs, toMs - fromMs));
    }
    videos.push(this.make('whiteboard', '', 0, window.stopMs - window.startMs));
    return videos;
  }

  private make(kind: keyof typeof VIDEO_TYPE, userId: string, playTimeMs: number, durationMs: number): VideoInfo {
    const fileId = FILE_ID_PREFIX + String(this.nextFileNumber++).padStart(FILE_ID_COUNTER_DIGITS, '0');
    const video: VideoInfo = {
      video_play_time: playTimeMs,
      video_size: Math.round((BITRATE_BITS_PER_SECOND[kind] / 8) * (durationMs / 1000)),
      video_format: 'mp4',
      video_duration: durationMs,
      video_url: `${this.baseUrl()}/_emulator/videos/${fileId}.mp4`,
      video_id: fileId,
      video_type: VIDEO_TYPE[kind],
      user_id: userId,
    };
    this.files.set(fileId, video);
    return video;
  }
}
