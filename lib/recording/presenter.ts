/**
 * A task as our API shows it: snake_case JSON. Never the UserSig (it is not even stored),
 * never the raw callback bodies (kept in storage for inspection only).
 */
import type { Track } from '../tic/tracks';
import type { VideoInfo } from '../tic/wire';
import type { CallbackArrivals, Task, TaskStatus } from './task';
import type { TaskPage } from './ports';

export interface ApiVideo {
  kind: Track['kind'];
  video_type: number;
  offset_ms: number;
  duration_ms: number;
  size_bytes: number;
  format: string;
  url: string;
  file_id: string;
  user_id: string;
  /** The vendor's record as received (CONTRACT.md item 1: `video_duration` units are read, not known). */
  raw: VideoInfo;
}

export interface ApiCallbackArrivals {
  count: number;
  first_at: string;
  last_at: string;
}

export interface ApiTask {
  task_id: string | null;
  record_user_id: string;
  room_id: number;
  group_id: string | null;
  whiteboard: { width: number; height: number } | null;
  status: TaskStatus;
  created_at: string;
  updated_at: string;
  /** The vendor's start_time / stop_time as ISO-8601, null until known. */
  start_time: string | null;
  stop_time: string | null;
  timeline: { status: TaskStatus; at: string; source: string; detail: string | null }[];
  videos: ApiVideo[];
  callbacks: { record_started: ApiCallbackArrivals | null; record_finished: ApiCallbackArrivals | null };
  polls: number;
  last_upstream_error: { operation: string; code: number | null; message: string; random: number; at: string } | null;
  failure: { reason: string; detail: string; code: number | null } | null;
}

const MS_PER_SECOND = 1000;

function vendorTime(seconds: number | undefined): string | null {
  // The vendor sends 0 for "not yet" in query answers (lib/tic/schemas.ts).
  return seconds === undefined || seconds <= 0 ? null : new Date(seconds * MS_PER_SECOND).toISOString();
}

function arrivals(value: CallbackArrivals | undefined): ApiCallbackArrivals | null {
  return value === undefined ? null : { count: value.count, first_at: value.firstAt, last_at: value.lastAt };
}

/** One track as the API shows it. */
export function toApiVideo(track: Track): ApiVideo {
  return {
    kind: track.kind,
    video_type: track.videoType,
    offset_ms: track.offsetMs,
    duration_ms: track.durationMs,
    size_bytes: track.sizeBytes,
    format: track.format,
    url: track.url,
    file_id: track.fileId,
    user_id: track.userId,
    raw: track.raw,
  };
}

/** A task as `GET /recordings/{id}` and the other routes return it. */
export function toApiTask(task: Task): ApiTask {
  const error = task.lastUpstreamError;
  return {
    task_id: task.taskId ?? null,
    record_user_id: task.recordUserId,
    room_id: task.roomId,
    group_id: task.groupId ?? null,
    whiteboard: task.whiteboard ?? null,
    status: task.status,
    created_at: task.createdAt,
    updated_at: task.updatedAt,
    start_time: vendorTime(task.startTimeSeconds),
    stop_time: vendorTime(task.stopTimeSeconds),
    timeline: task.timeline.map((entry) => ({
      status: entry.status,
      at: entry.at,
      source: entry.source,
      detail: entry.detail ?? null,
    })),
    videos: task.tracks.map(toApiVideo),
    callbacks: {
      record_started: arrivals(task.callbacks.recordStarted),
      record_finished: arrivals(task.callbacks.recordFinished),
    },
    polls: task.polls,
    last_upstream_error:
      error === undefined
        ? null
        : { operation: error.operation, code: error.code ?? null, message: error.message, random: error.random, at: error.at },
    failure:
      task.failure === undefined
        ? null
        : { reason: task.failure.reason, detail: task.failure.detail, code: task.failure.code ?? null },
  };
}

/** A page of `GET /rooms/{room_id}/recordings`. */
export function toApiPage(page: TaskPage): { recordings: ApiTask[]; next_cursor: string | null } {
  return { recordings: page.tasks.map(toApiTask), next_cursor: page.nextCursor ?? null };
}
