/**
 * The TIC recording API as the rest of the code sees it: four typed calls.
 *
 * `lib/tic/client.ts` implements it over HTTP; the recording domain depends only on this
 * interface. Every method throws `TicError` (lib/tic/errors.ts) on a non-zero `error_code`
 * or a transport failure.
 */
import type { QueryAnswer, WhiteboardSize } from './wire';

export interface StartRecordingInput {
  roomId: number;
  /** Whiteboard IM group; the vendor defaults it to the room id. */
  groupId?: string;
  /** `tic_record_user_{roomId}_{n}` (lib/tic/user-id.ts). */
  userId: string;
  userSig: string;
  whiteboard?: Partial<WhiteboardSize>;
}

/** Every successful call reports the `random` it sent, for logs and support. */
export interface CallReceipt {
  random: number;
}

export interface StartRecordingResult extends CallReceipt {
  taskId: string;
}

export interface QueryResult extends CallReceipt {
  answer: QueryAnswer;
}

export interface TicApi {
  /** Never retried by the client: a second start makes a second recorder in the room. */
  start(input: StartRecordingInput): Promise<StartRecordingResult>;
  stop(taskId: string): Promise<CallReceipt>;
  query(taskId: string): Promise<QueryResult>;
  /** An empty string removes the callback URL. */
  setCallback(url: string): Promise<CallReceipt>;
}
