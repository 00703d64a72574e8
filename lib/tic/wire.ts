/**
 * The TIC recording API on the wire: request bodies, answers, callback bodies and
 * `VideoInfo`, as the vendor document gives them (CONTRACT.md "Endpoints" and "Callbacks").
 *
 * These are shapes, not validators; `lib/tic/callback-body.ts` and the client validate.
 */

/** The four endpoints' paths (CONTRACT.md item 5: the callback path is `/record/v1/online/callback`). */
export const TIC_PATHS = {
  start: '/record/v1/online/start',
  stop: '/record/v1/online/stop',
  query: '/record/v1/online/query',
  callback: '/record/v1/online/callback',
} as const;

/** The vendor's production base URL. */
export const TIC_DEFAULT_BASE_URL = 'https://iclass.api.qcloud.com';

/** Stream kinds of `VideoInfo.video_type`. */
export const VideoType = { CAMERA: 0, SCREEN: 1, WHITEBOARD: 2 } as const;

/** One recorded file as the vendor reports it. */
export interface VideoInfo {
  /** Offset of the file's first frame from the start of the recording, ms (CONTRACT.md item 2). */
  video_play_time: number;
  video_size: number;
  video_format: string;
  /** ms by our reading (CONTRACT.md item 1). */
  video_duration: number;
  video_url: string;
  video_id: string;
  video_type: number;
  /** Empty for the whiteboard. */
  user_id: string;
}

export interface WhiteboardSize {
  width: number;
  height: number;
}

export interface StartRequestBody {
  expire_time: number;
  room_id: number;
  group_id?: string;
  user_id: string;
  user_sig: string;
  whiteboard?: Partial<WhiteboardSize>;
}

export interface TaskRequestBody {
  expire_time: number;
  task_id: string;
}

export interface SetCallbackRequestBody {
  expire_time: number;
  /** Empty string removes the callback. */
  callback: string;
}

export interface TicAnswer {
  error_code: number;
  error_msg: string;
}

export interface StartAnswer extends TicAnswer {
  task_id: string;
}

/** `status` of a task in a query answer. */
export type UpstreamTaskStatus = 'prepared' | 'recording' | 'finished';

export interface QueryAnswer extends TicAnswer {
  task_id: string;
  status: UpstreamTaskStatus;
  start_time: number;
  stop_time: number;
  record_user_id: string;
  room_id: number;
  group_id: string;
  video_info: VideoInfo[];
  /** Mentioned in the document's section 2.5 only (CONTRACT.md item 6); never relied on. */
  progress?: number;
}

export type CallbackType = 'record_started' | 'record_finished';

export interface CallbackBodyCommon {
  expire_time: number;
  error_code: number;
  error_msg: string;
  timestamp: number;
  task_id: string;
  record_user_id: string;
  room_id: number;
  group_id: string;
}

export interface RecordStartedCallback extends CallbackBodyCommon {
  callback_type: 'record_started';
}

export interface RecordFinishedCallback extends CallbackBodyCommon {
  callback_type: 'record_finished';
  start_time: number;
  stop_time: number;
  video_info: VideoInfo[];
}

export type RecordCallback = RecordStartedCallback | RecordFinishedCallback;

/** The URL query parameters of every request, in both directions. */
export interface SignedQuery {
  sdkappid: string;
  sign: string;
  random: string;
}
