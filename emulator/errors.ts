/**
 * The vendor's error codes (document section 5) as the emulator answers them.
 *
 * Kept apart from lib/tic/errors.ts on purpose: the emulator must not share code with
 * the client it is meant to check.
 */
export const Code = {
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

/**
 * A refusal, answered as `{"error_code": code, "error_msg": message}` with HTTP status
 * `httpStatus` (200 for the vendor's own refusals; 404/405/413 for routing and size).
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly code: number,
    message: string,
    readonly httpStatus = 200,
  ) {
    super(message);
  }
}

/** 20003 naming the field, as the document asks `error_msg` to do ("check error_msg"). */
export function badField(field: string, problem: string): ApiError {
  return new ApiError(Code.BAD_REQUEST, `${field}: ${problem}`);
}
