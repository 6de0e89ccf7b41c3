/**
 * Domain errors shared by the whole library. Each has `name` set and structured fields, so callers
 * can branch on the class or the fields instead of parsing messages.
 *
 * @module
 */
import { redactUrl } from "./redact.ts";

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
 * The stream is disabled (privacy mode, `PUT /api/disabled` or the config's `disabled:`): it takes
 * no viewers and no publishers until it is enabled again.
 *
 * @example
 * ```ts
 * try { await stream.addConsumer(viewer); } catch (e) { if (e instanceof StreamDisabledError) console.log(e.reason); }
 * ```
 */
export class StreamDisabledError extends Error {
  override name = "StreamDisabledError";
  readonly stream: string;
  /** Why it was disabled, as given when it was (may be empty). */
  readonly reason: string;
  constructor(stream: string, reason = "") {
    const enable = `DELETE /api/disabled?src=${encodeURIComponent(stream)}`;
    super(
      `Stream "${stream}" is disabled${reason ? ` (${reason})` : ""}; ` +
        `enable it with ${enable} or remove it from "disabled:" in the config.`,
    );
    this.stream = stream;
    this.reason = reason;
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
    // The whole message: a protocol client's reason often repeats the URL it was given.
    super(redactUrl(`Source "${url}": ${message}`), options);
    this.url = url;
  }
}

// The masking helper lives in redact.ts; re-exported here because errors and callers import it from here.
export { redactUrl } from "./redact.ts";
