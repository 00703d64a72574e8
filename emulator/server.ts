/**
 * The emulator's HTTP front: the four vendor endpoints, with their authentication, fault
 * switches and answers, and the unsigned control API under `/_emulator/` (control.ts).
 *
 * Check order of a vendor endpoint (emulator/README.md "Check order"):
 * path (404) → method (405) → sdkappid (20000) → random (20003) → content-type, size,
 * JSON object (20003) → expire_time present and int (20003), not past (20001) → sign
 * (20002) → fault switches (20099 or no answer) → fields (20003) → effect (20004, 20005, 20011).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkRandom, checkSdkappid, checkSign } from './auth';
import type { CallbackDispatcher } from './callbacks';
import { handleControl } from './control';
import { ApiError, Code } from './errors';
import type { Endpoint, FaultBoard } from './faults';
import { isJsonContentType, parseJsonObject, readBody, refuseOversized, sendError, sendJson } from './http';
import type { ResolvedOptions } from './options';
import { checkUserSig, parseCallbackUrl, parseStart, parseTaskId } from './requests';
import type { RecordingService } from './service';
import type { EmulatorStats } from './stats';

/** The vendor's paths (CONTRACT.md item 5: the callback path is not `/ppt2h5/...`). */
const ENDPOINT_BY_PATH: Readonly<Record<string, Endpoint>> = {
  '/record/v1/online/start': 'start',
  '/record/v1/online/stop': 'stop',
  '/record/v1/online/query': 'query',
  '/record/v1/online/callback': 'callback',
};

const CONTROL_PREFIX = '/_emulator';

export interface EmulatorParts {
  options: ResolvedOptions;
  service: RecordingService;
  callbacks: CallbackDispatcher;
  faults: FaultBoard;
  stats: () => EmulatorStats;
  reset: () => void;
}

/** The request listener; it never throws and never shows a stack trace. */
export function createHandler(parts: EmulatorParts): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    route(parts, req, res).catch((error: unknown) => {
      if (error instanceof ApiError && error.httpStatus === 413) return refuseOversized(req, res, error);
      const apiError = error instanceof ApiError ? error : new ApiError(Code.INTERNAL, 'internal error', 500);
      sendError(res, apiError);
    });
  };
}

async function route(parts: EmulatorParts, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://emulator.invalid');
  if (url.pathname === CONTROL_PREFIX || url.pathname.startsWith(`${CONTROL_PREFIX}/`)) {
    parts.stats().requests.control += 1;
    return handleControl(parts, req, res, url.pathname.slice(CONTROL_PREFIX.length));
  }
  const endpoint = ENDPOINT_BY_PATH[url.pathname];
  if (endpoint === undefined) {
    parts.stats().requests.other += 1;
    throw new ApiError(Code.BAD_REQUEST, 'no such endpoint', 404);
  }
  parts.stats().requests[endpoint] += 1;
  const answer = await answerEndpoint(parts, endpoint, req, url.searchParams).catch((error: unknown) => {
    if (error instanceof ApiError && error.httpStatus === 200) return { error_code: error.code, error_msg: error.message };
    throw error;
  });
  if (answer === HANG) {
    // Never answered: the socket stays open until the client gives up or the emulator closes.
    return;
  }
  const code = String(answer['error_code']);
  parts.stats().answers[code] = (parts.stats().answers[code] ?? 0) + 1;
  sendJson(res, 200, answer);
}

const HANG = Symbol('hang');

async function answerEndpoint(
  parts: EmulatorParts,
  endpoint: Endpoint,
  req: IncomingMessage,
  query: URLSearchParams,
): Promise<Record<string, unknown> | typeof HANG> {
  if (req.method !== 'POST') throw new ApiError(Code.BAD_REQUEST, 'method not allowed: use POST', 405);
  const { options } = parts;
  checkSdkappid(query, options);
  checkRandom(query);
  if (!isJsonContentType(req)) throw new ApiError(Code.BAD_REQUEST, 'content-type: expected application/json');
  const body = parseJsonObject(await readBody(req, options.maxBodyBytes));
  checkSign(query, body, options, Math.floor(Date.now() / 1000));

  const fault = parts.faults.forEndpoint(endpoint);
  const faultAnswer = () => {
    if (fault.kind === 'none') return undefined;
    parts.stats().faults[fault.kind === 'hang' ? 'hangs' : 'errors'][endpoint] += 1;
    return fault.kind === 'hang' ? HANG : { error_code: Code.INTERNAL, error_msg: 'internal error (injected fault)' };
  };
  if (fault.kind !== 'none' && !fault.afterEffect) return faultAnswer()!;
  let answer: Record<string, unknown>;
  try {
    answer = await perform(parts, endpoint, body);
  } catch (error) {
    // "After effect" faults replace whatever the call answered, refusal included.
    if (fault.kind !== 'none' && error instanceof ApiError) return faultAnswer()!;
    throw error;
  }
  return faultAnswer() ?? answer;
}

async function perform(parts: EmulatorParts, endpoint: Endpoint, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const { service, options } = parts;
  switch (endpoint) {
    case 'start': {
      const input = parseStart(body);
      if (options.checkUserSig) checkUserSig(input.userSig, input.userId, options.sdkappid, Math.floor(Date.now() / 1000));
      return { error_code: Code.OK, error_msg: 'ok', task_id: service.start(input) };
    }
    case 'stop':
      service.stop(parseTaskId(body));
      return { error_code: Code.OK, error_msg: 'ok' };
    case 'query':
      return { ...service.query(parseTaskId(body)) };
    case 'callback': {
      const result = await parts.callbacks.register(parseCallbackUrl(body));
      if (!result.ok) throw new ApiError(Code.CALLBACK_SETUP_FAILED, `callback test request failed: ${result.reason}`);
      return { error_code: Code.OK, error_msg: 'ok' };
    }
  }
}
