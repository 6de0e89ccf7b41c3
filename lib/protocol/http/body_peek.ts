/**
 * Reads the first bytes of a body to tell its format, and hands back a stream that still starts
 * with them: sniffing must not lose the first frame.
 *
 * @module
 */
import { SourceError } from "../../core/errors.ts";
import { errorText } from "./client.ts";
import { describeBody, detectStreamFormat, STREAM_FORMAT_NAMES, type StreamFormat } from "./stream_format.ts";

/** What {@link peekBody} found. */
export interface PeekedBody {
  format: StreamFormat;
  /** The bytes read to decide. */
  head: Uint8Array;
  /** Whether the body ended within `head`. */
  ended: boolean;
  /** The whole body, `head` first. */
  body: ReadableStream<Uint8Array>;
}

/**
 * A stream that yields `head`, then the rest of `reader`. Pull-based: nothing is read ahead.
 *
 * @example
 * ```ts
 * const whole = prependBytes(head, reader);
 * ```
 */
export function prependBytes(
  head: Uint8Array,
  reader: ReadableStreamDefaultReader<Uint8Array>,
): ReadableStream<Uint8Array> {
  let first: Uint8Array | undefined = head.length ? head : undefined;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (first) {
        controller.enqueue(first);
        first = undefined;
        return;
      }
      const { value, done } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

/**
 * Reads a response body until its format is known (Content-Type and magic bytes).
 *
 * @throws {SourceError} naming the Content-Type and first bytes when the body is no media strom
 *   reads (an HTML login page, an error text), or when it sends nothing within `timeoutMs`.
 * @example
 * ```ts
 * const { format, body } = await peekBody(res, url, signal);
 * ```
 */
export async function peekBody(
  res: Response,
  url: string,
  signal: AbortSignal,
  timeoutMs = 10_000,
): Promise<PeekedBody> {
  const contentType = res.headers.get("content-type") ?? "";
  const single = res.headers.has("content-length");
  if (!res.body) {
    throw new SourceError(url, `the response has no body (${describeBody(contentType, new Uint8Array(0))})`);
  }
  const reader = res.body.getReader();
  let head = new Uint8Array(0);
  let ended = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((
    resolve,
  ) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)));
  try {
    for (;;) {
      const found = detectStreamFormat(contentType, head, { single, ended });
      if (found !== "more" || ended) {
        if (found === undefined || found === "more") {
          throw new SourceError(
            url,
            `not a media stream (${describeBody(contentType, head)}). strom reads ${STREAM_FORMAT_NAMES}.` +
              (/html/i.test(contentType)
                ? " The URL serves a web page: point it at the camera's stream or snapshot URL."
                : ""),
          );
        }
        return { format: found, head, ended, body: prependBytes(head, reader) };
      }
      let next: ReadableStreamReadResult<Uint8Array> | "timeout";
      try {
        next = await Promise.race([reader.read(), timeout]);
      } catch (error) {
        throw new SourceError(url, `connection failed while reading the first bytes: ${errorText(error)}`, {
          cause: error,
        });
      }
      if (signal.aborted) throw new SourceError(url, "dial aborted", { cause: signal.reason });
      if (next === "timeout") {
        throw new SourceError(
          url,
          `sent no media within ${timeoutMs} ms (${describeBody(contentType, head)})`,
        );
      }
      if (next.done) ended = true;
      else {
        const merged = new Uint8Array(head.length + next.value.length);
        merged.set(head);
        merged.set(next.value, head.length);
        head = merged;
      }
    }
  } catch (error) {
    reader.cancel().catch(() => {});
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
