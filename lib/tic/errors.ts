/**
 * The TIC recording API's error codes (vendor document section 5, CONTRACT.md "Error codes").
 */
export const TicErrorCode = {
  OK: 0,
  SERVICE_NOT_ENABLED: 20000,
  SIGN_EXPIRED: 20001,
  SIGN_MISMATCH: 20002,
  BAD_REQUEST: 20003,
  CALLBACK_SETUP_FAILED: 20004,
  DATA_READ_FAILED: 20005,
  TASK_ALREADY_ENDED: 20011,
  INTERNAL: 20099,
} as const;

export type TicErrorCodeValue = (typeof TicErrorCode)[keyof typeof TicErrorCode];

/** Codes that the vendor documents; anything else from upstream is kept as an unknown code. */
export const DOCUMENTED_ERROR_CODES: ReadonlySet<number> = new Set(
  Object.values(TicErrorCode).filter((code) => code !== TicErrorCode.OK),
);

/** What an integrator does about each code, in words (for logs and our own API's 502 answers). */
export const TIC_ERROR_MEANING: Readonly<Record<number, string>> = {
  [TicErrorCode.SERVICE_NOT_ENABLED]: 'recording service not enabled for this sdkappid',
  [TicErrorCode.SIGN_EXPIRED]: 'signature expired',
  [TicErrorCode.SIGN_MISMATCH]: 'signature check failed',
  [TicErrorCode.BAD_REQUEST]: 'request could not be parsed',
  [TicErrorCode.CALLBACK_SETUP_FAILED]: 'setting the callback URL failed',
  [TicErrorCode.DATA_READ_FAILED]: 'data read failed',
  [TicErrorCode.TASK_ALREADY_ENDED]: 'task had already ended',
  [TicErrorCode.INTERNAL]: 'internal error',
};

/** Which TIC endpoint a call went to. */
export type TicOperation = 'start' | 'stop' | 'query' | 'callback';

/**
 * An answer from the TIC service with a non-zero `error_code`, or a transport failure
 * (timeout, connection error, unreadable answer) talking to it.
 *
 * Carries what support needs to investigate (`random` of the request) and what the
 * caller needs to decide (`retryable`). Never carries the TicKey or the sign.
 */
export class TicError extends Error {
  override readonly name = 'TicError';
  /** The upstream `error_code`, or `undefined` for a transport failure. */
  readonly code: number | undefined;
  /** The upstream `error_msg` as sent, or a description of the transport failure. */
  readonly upstreamMessage: string;
  /** The `random` query parameter of the request that failed. */
  readonly random: number;
  readonly operation: TicOperation;
  /** Whether repeating the same request may succeed (see `isRetryable`). */
  readonly retryable: boolean;
  /** `timeout`, `network` or `bad_response` for a transport failure; `upstream` for an error code. */
  readonly kind: 'upstream' | 'timeout' | 'network' | 'bad_response';

  constructor(args: {
    operation: TicOperation;
    code: number | undefined;
    upstreamMessage: string;
    random: number;
    kind: TicError['kind'];
    retryable: boolean;
  }) {
    const what = args.code === undefined ? args.kind : `error_code ${args.code}`;
    super(`TIC ${args.operation} failed: ${what}: ${args.upstreamMessage} (random ${args.random})`);
    this.operation = args.operation;
    this.code = args.code;
    this.upstreamMessage = args.upstreamMessage;
    this.random = args.random;
    this.kind = args.kind;
    this.retryable = args.retryable;
  }
}
