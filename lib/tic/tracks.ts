/**
 * The recorded files of a task as the rest of the code sees them: tracks on a common
 * timeline, normalized from the vendor's `VideoInfo` records.
 */
import { VideoType, type VideoInfo } from './wire';

export type TrackKind = 'camera' | 'screen' | 'whiteboard' | 'unknown';

export interface Track {
  kind: TrackKind;
  /** `video_type` as sent, so that an unknown type is not lost. */
  videoType: number;
  /** Offset of the first frame from the start of the recording (`video_play_time`, ms: CONTRACT.md item 2). */
  offsetMs: number;
  /** `video_duration`, read as ms (CONTRACT.md item 1); `raw.video_duration` keeps the value as sent. */
  durationMs: number;
  sizeBytes: number;
  /** As given; never assumed (CONTRACT.md item 3). */
  format: string;
  url: string;
  /** VOD fileId (`video_id`). */
  fileId: string;
  /** The publishing user; '' for the whiteboard. */
  userId: string;
  /** The vendor record as received. */
  raw: VideoInfo;
}

const KIND_BY_VIDEO_TYPE: ReadonlyMap<number, TrackKind> = new Map([
  [VideoType.CAMERA, 'camera'],
  [VideoType.SCREEN, 'screen'],
  [VideoType.WHITEBOARD, 'whiteboard'],
]);

/** Order of kinds among tracks that start at the same offset. */
const KIND_ORDER: Readonly<Record<TrackKind, number>> = { camera: 0, screen: 1, whiteboard: 2, unknown: 3 };

/**
 * One `VideoInfo` as a track. An unknown `video_type` becomes kind `unknown` rather than an
 * error: a new stream kind must not lose the rest of the recording.
 *
 * The whiteboard's user id is '' as the document's tables say, even though the 4.5.2
 * example gives one (`pc_test1`); `raw.user_id` keeps what was sent.
 */
export function normalizeVideo(video: VideoInfo): Track {
  const kind = KIND_BY_VIDEO_TYPE.get(video.video_type) ?? 'unknown';
  return {
    kind,
    videoType: video.video_type,
    offsetMs: video.video_play_time,
    durationMs: video.video_duration,
    sizeBytes: video.video_size,
    format: video.video_format,
    url: video.video_url,
    fileId: video.video_id,
    userId: kind === 'whiteboard' ? '' : video.user_id,
    raw: video,
  };
}

/**
 * All the videos of a task as tracks, sorted by offset, then kind (camera, screen,
 * whiteboard, unknown), then user id and fileId so that the order is stable whatever order
 * the vendor listed them in.
 */
export function normalizeVideos(videos: readonly VideoInfo[]): Track[] {
  return videos.map(normalizeVideo).sort(compareTracks);
}

function compareTracks(a: Track, b: Track): number {
  return (
    a.offsetMs - b.offsetMs ||
    KIND_ORDER[a.kind] - KIND_ORDER[b.kind] ||
    compareText(a.userId, b.userId) ||
    compareText(a.fileId, b.fileId)
  );
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
