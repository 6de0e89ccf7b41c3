/**
 * Domain errors shared by the whole library. Each has `name` set and structured fields, so callers
 * can branch on the class or the fields instead of parsing messages.
 *
 * @module
 */

/**
 * No codec of a consumer matched any source of a stream.
 *
 * @example
 * ```ts
 * try { await stream.addConsumer(viewer); } catch (e) {
 *   if (e instanceof CodecMismatchError) console.log(e.wanted, e.offered);
 * }
 * ```
 */
export class CodecMismatchError extends Error {
  override name = "CodecMismatchError";
  /** What the consumer asked for, e.g. `["video:H264", "audio:OPUS"]`. */
  readonly wanted: string[];
  /** What the sources offered, e.g. `["video:H265", "audio:MPEG4-GENERIC"]`. */
  readonly offered: string[];
  constructor(stream: string, wanted: string[], offered: string[]) {
    super(
      `Stream "${stream}": codecs not matched: ${offered.join(", ") || "(no source medias)"} => ` +
        `${
          wanted.join(", ")
        }. Add an ffmpeg source that transcodes, e.g. "ffmpeg:${stream}#video=h264#audio=opus".`,
    );
    this.wanted = wanted;
    this.offered = offered;
  }
}

/**
 * A stream name that does not exist.
 *
 * @example
 * ```ts
 * if (err instanceof StreamNotFoundError) return c.text(err.message, 404);
 * ```
 */
export class StreamNotFoundError extends Error {
  override name = "StreamNotFoundError";
  readonly stream: string;
  constructor(stream: string) {
    super(
      `Stream "${stream}" not found. List streams with GET /api/streams or add it under "streams:" in the config.`,
    );
    this.stream = stream;
  }
}

/**
 * A source URL whose scheme no factory is registered for.
 *
 * @example
 * ```ts
 * try { await dialSource("foo://x"); } catch (e) { if (e instanceof UnknownSchemeError) console.log(e.scheme); }
 * ```
 */
export class UnknownSchemeError extends Error {
  override name = "UnknownSchemeError";
  readonly scheme: string;
  readonly url: string;
  constructor(scheme: string, url: string, known: string[]) {
    super(
      `Unknown source scheme "${scheme}" in "${redactUrl(url)}". Known schemes: ${
        known.sort().join(", ")
      }. ` +
        `Register one with registerSource().`,
    );
    this.scheme = scheme;
    this.url = url;
  }
}

/**
 * A source could not be reached or failed while dialing.
 *
 * @example
 * ```ts
 * if (err instanceof SourceError) console.log(err.url, err.cause);
 * ```
 */
export class SourceError extends Error {
  override name = "SourceError";
  readonly url: string;
  constructor(url: string, message: string, options?: { cause?: unknown }) {
    super(`Source "${redactUrl(url)}": ${message}`, options);
    this.url = url;
  }
}

/**
 * Replaces the password of a URL's userinfo with `***`, so secrets stay out of logs and API answers.
 *
 * @example
 * ```ts
 * redactUrl("rtsp://admin:secret@cam/1"); // "rtsp://admin:***@cam/1"
 * redactUrl("ffmpeg:rtsp://admin:secret@cam/1#audio=opus"); // "ffmpeg:rtsp://admin:***@cam/1#audio=opus"
 * ```
 */
export function redactUrl(url: string): string {
  // Anywhere in the string: sources nest URLs, e.g. "ffmpeg:rtsp://admin:pw@cam/1#video=h264".
  return url.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@/\s]*@/gi, "$1:***@");
}
