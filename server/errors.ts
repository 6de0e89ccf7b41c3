/**
 * HTTP errors of the API and the one mapping from any thrown error to a JSON error response
 * (`{"error": name, "message": ...}`), used by `app.onError`.
 *
 * @module
 */
import { HTTPException } from "hono/http-exception";
import { CodecMismatchError, SourceError, StreamNotFoundError, UnknownSchemeError } from "../lib/core/errors.ts";
import { redactUrl } from "../lib/core/redact.ts";

/**
 * A request the API rejects, with its HTTP status. Throw it from a route; `app.onError` answers
 * `{"error": name, "message": message}` with that status.
 *
 * @example
 * ```ts
 * throw new ApiError(400, "Missing query parameter src=: PUT /api/streams?name=cam&src=rtsp://...");
 * ```
 */
export class ApiError extends Error {
  override name = "ApiError";
  readonly status: number;
  constructor(status: number, message: string, name?: string) {
    super(message);
    this.status = status;
    if (name) this.name = name;
  }
}

/** The JSON body of every API error response. */
export interface ErrorBody {
  error: string;
  message: string;
}

/** Error classes that callers fix by changing their request, by `name` (works across module copies). */
const STATUS_BY_NAME: Record<string, number> = {
  StreamNotFoundError: 404,
  StreamDisabledError: 503,
  CodecMismatchError: 415,
  UnknownSchemeError: 400,
  ConfigError: 400,
  PasswordHashError: 400,
  SyntaxError: 400,
  SdpError: 400,
  SourceError: 502,
  SourceForbiddenError: 403,
};

/**
 * Maps a thrown error to an HTTP status and JSON body. Unknown errors become 500 with a generic
 * message (the details go to the log, not to the client).
 *
 * @example
 * ```ts
 * const { status, body } = errorToResponse(new StreamNotFoundError("cam")); // 404
 * ```
 */
export function errorToResponse(error: unknown): { status: number; body: ErrorBody; expected: boolean } {
  if (error instanceof ApiError) {
    return { status: error.status, body: { error: error.name, message: maskSecrets(error.message) }, expected: true };
  }
  if (error instanceof HTTPException) {
    return {
      status: error.status,
      body: { error: "HTTPException", message: maskSecrets(error.message || "request failed") },
      expected: true,
    };
  }
  if (
    error instanceof StreamNotFoundError || error instanceof CodecMismatchError ||
    error instanceof UnknownSchemeError || error instanceof SourceError ||
    (error instanceof Error && error.name in STATUS_BY_NAME)
  ) {
    const e = error as Error;
    return { status: STATUS_BY_NAME[e.name] ?? 400, body: { error: e.name, message: maskSecrets(e.message) }, expected: true };
  }
  return {
    status: 500,
    body: { error: "InternalError", message: "Internal server error; see the server log for details." },
    expected: false,
  };
}

/**
 * Replaces the password of every URL in a text with `***`.
 *
 * @example
 * ```ts
 * maskSecrets('bad source "rtsp://admin:pw@cam/1"'); // 'bad source "rtsp://admin:***@cam/1"'
 * ```
 */
export function maskSecrets(text: string): string {
  return redactUrl(text);
}
