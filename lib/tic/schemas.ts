/**
 * Validators of what the TIC service sends us: answers to our requests and callback bodies.
 *
 * Types are strict (a string `room_id` is refused: rooms are int, CONTRACT.md item 10);
 * unknown extra fields are tolerated and dropped. The one leniency is an absent or `null`
 * `video_info`, read as no videos (CONTRACT.md item 9): an empty list is a valid result,
 * and a server written in Go (the document's sample language) encodes an empty list as `null`.
 *
 * Written with `zod/mini`, the tree-shakable build of zod 4: the classic `z` namespace
 * bundles every locale and the JSON-schema tooling (about 450 KB minified), three times the
 * 150 KB budget of a Lambda. Only the English messages are loaded, for the `reason` texts.
 */
import * as z from 'zod/mini';
import { en } from 'zod/v4/locales';
import type {
  QueryAnswer,
  RecordFinishedCallback,
  RecordStartedCallback,
  StartAnswer,
  TicAnswer,
  VideoInfo,
} from './wire';

// zod/mini loads no messages by default; English is what classic zod uses, so this global
// setting changes nothing for code that uses classic zod in the same process.
z.config(en());

/** A validator whose parsed output is `T`. */
export type Schema<T> = z.ZodMiniType<T, unknown>;

/** The integers of the wire: JSON numbers with no fraction (safe integers). */
const wireInt = (): z.ZodMiniNumberFormat => z.int();

/** One recorded file (vendor document 2.5 / 4.3). */
export const videoInfoSchema = z.object({
  video_play_time: wireInt(),
  video_size: wireInt(),
  video_format: z.string(),
  video_duration: wireInt(),
  video_url: z.string(),
  video_id: z.string(),
  video_type: wireInt(),
  user_id: z.string(),
}) satisfies Schema<VideoInfo>;

/** `video_info[]`, absent or `null` read as `[]` (see the module comment). */
const videoListSchema = z.pipe(
  z.nullish(z.array(videoInfoSchema)),
  z.transform((list): VideoInfo[] => list ?? []),
);

const envelopeShape = {
  error_code: wireInt(),
  error_msg: z.pipe(
    z.nullish(z.string()),
    z.transform((message): string => message ?? ''),
  ),
};

/**
 * The envelope of every answer. An error answer is trusted for its code alone, so
 * `error_msg` may be missing (read as '').
 */
export const answerEnvelopeSchema = z.object(envelopeShape) satisfies Schema<TicAnswer>;

/** A successful start answer: it must name the task. */
export const startAnswerSchema = z.object({
  ...envelopeShape,
  task_id: z.string().check(z.minLength(1)),
}) satisfies Schema<StartAnswer>;

export const upstreamTaskStatusSchema = z.enum(['prepared', 'recording', 'finished']);

/** Absent read as 0. */
const secondsOrZero = z.pipe(
  z.optional(wireInt()),
  z.transform((seconds): number => seconds ?? 0),
);

/**
 * A successful query answer. `start_time` / `stop_time` may be absent before the recording
 * has started or stopped (read as 0; never used for durations, CONTRACT.md item 8);
 * `progress` is accepted when present and never relied on (CONTRACT.md item 6).
 */
export const queryAnswerSchema = z.object({
  ...envelopeShape,
  task_id: z.string().check(z.minLength(1)),
  status: upstreamTaskStatusSchema,
  start_time: secondsOrZero,
  stop_time: secondsOrZero,
  record_user_id: z.string(),
  room_id: wireInt(),
  group_id: z.string(),
  video_info: videoListSchema,
  progress: z.optional(z.number()),
}) satisfies Schema<QueryAnswer>;

const callbackCommonShape = {
  expire_time: wireInt(),
  error_code: wireInt(),
  error_msg: z.string(),
  timestamp: wireInt(),
  task_id: z.string(),
  record_user_id: z.string(),
  room_id: wireInt(),
  group_id: z.string(),
};

/** Body of the `record_started` callback (vendor document 4.5.1). */
export const recordStartedCallbackSchema = z.object({
  ...callbackCommonShape,
  callback_type: z.literal('record_started'),
}) satisfies Schema<RecordStartedCallback>;

/** Body of the `record_finished` callback (vendor document 4.5.2). */
export const recordFinishedCallbackSchema = z.object({
  ...callbackCommonShape,
  callback_type: z.literal('record_finished'),
  start_time: wireInt(),
  stop_time: wireInt(),
  video_info: videoListSchema,
}) satisfies Schema<RecordFinishedCallback>;

/** Either callback body, told apart by `callback_type`. */
export const recordCallbackSchema = z.discriminatedUnion('callback_type', [
  recordStartedCallbackSchema,
  recordFinishedCallbackSchema,
]);

/** The `callback_type` values we know; any other is not a callback (CONTRACT.md item 7). */
export const KNOWN_CALLBACK_TYPES: ReadonlySet<string> = new Set(['record_started', 'record_finished']);

/**
 * The first problem of a failed validation, naming the field (`video_info.0.video_size: ...`),
 * for logs and the stored invalid-callback record. Carries no values, only paths and types.
 */
export function describeSchemaError(error: z.core.$ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) {
    return 'invalid';
  }
  const path = issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)';
  return `${path}: ${issue.message}`;
}
