/**
 * The `http://` and `https://` sources: one GET, then the format decides the producer, as in
 * go2rtc's `internal/http`:
 *
 * | Content-Type / first bytes                       | Producer                                    |
 * | ------------------------------------------------ | ------------------------------------------- |
 * | `application/vnd.apple.mpegurl`, `.m3u8`, `#EXTM3U` | HLS pull (MPEG-TS or fMP4 segments)      |
 * | `image/jpeg` (one image)                         | snapshots polled into MJPEG                 |
 * | `multipart/x-mixed-replace`, `--boundary`        | MJPEG (IP cameras)                          |
 * | `FLV`                                            | HTTP-FLV (H.264/H.265, AAC, G.711)          |
 * | `0x47` every 188 bytes                           | MPEG-TS (H.264/H.265, AAC, Opus)            |
 * | `FF D8 FF` without `image/jpeg`                  | concatenated JPEG images                    |
 *
 * Anything else (an HTML login page, an error text) fails the dial with the Content-Type and the
 * first bytes in the message. Options after `#`: `#header=Name: value` (repeatable). Credentials
 * in the URL answer Basic or Digest challenges.
 *
 * @module
 */
import type { Producer } from "../../core/connection.ts";
import { type Logger, silentLogger } from "../../core/log.ts";
import { registerSource } from "../../core/registry.ts";
import { peekBody } from "./body_peek.ts";
import { openByteStream } from "./byte_stream_producer.ts";
import { HttpSourceClient, parseHttpSourceUrl } from "./client.ts";
import { dialHls } from "./hls_pull.ts";
import { JpegPollProducer, readBody } from "./jpeg_poll.ts";
import { mediaType } from "./stream_format.ts";

/** Options of {@link dialHttp}. */
export interface HttpDialOptions {
  log?: Logger;
  /** Aborts the dial (not the running source: use `stop()`). */
  signal?: AbortSignal;
  /** How long to wait for the first bytes and complete tracks. Default 10 000 ms. */
  probeTimeoutMs?: number;
  /** A running stream source that sends nothing for this long fails (and is redialed). Default 15 000 ms. */
  idleTimeoutMs?: number;
}

const HLS_TYPES = new Set([
  "application/vnd.apple.mpegurl",
  "application/x-mpegurl",
  "audio/mpegurl",
  "audio/x-mpegurl",
]);

/**
 * Dials an `http(s)://` source: connects, sniffs the format, and returns a producer whose medias
 * are known.
 *
 * @throws {SourceError} with the URL (password and `#header=` values masked): unreachable host,
 *   non-2xx status, refused credentials, a body that is not media (Content-Type and first bytes
 *   named), or tracks that do not complete in time.
 * @example
 * ```ts
 * const producer = await dialHttp("http://admin:pw@192.168.1.10/video.mjpg");
 * producer.medias(); // [video JPEG]
 * ```
 */
export async function dialHttp(url: string, options: HttpDialOptions = {}): Promise<Producer> {
  const source = parseHttpSourceUrl(url);
  const client = new HttpSourceClient(source);
  const log = (options.log ?? silentLogger).child({ source: "http" });
  // The connection's own lifetime: the dial signal aborts it only while dialing (it usually
  // carries the dial timeout, which must not cut a running body).
  const conn = new AbortController();
  const onAbort = () => conn.abort(options.signal?.reason);
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const res = await client.get(undefined, conn.signal);
    const type = mediaType(res.headers.get("content-type"));
    const path = new URL(res.url || source.url).pathname;
    if (HLS_TYPES.has(type) || /\.m3u8?$/i.test(path)) {
      return await dialHls(client, res, { log, signal: options.signal, connection: conn });
    }
    const peeked = await peekBody(res, source.display, conn.signal, options.probeTimeoutMs);
    switch (peeked.format) {
      case "hls":
        return await dialHls(client, new Response(peeked.body, { headers: res.headers }), {
          log,
          signal: options.signal,
          connection: conn,
          url: res.url,
        });
      case "jpeg": {
        const first = await readBody(peeked.body, 16 * 1024 * 1024);
        log.debug("snapshot source", { url: source.display, bytes: first.length });
        return new JpegPollProducer(client, first);
      }
      default:
        return await openByteStream(peeked.body, {
          url: source.display,
          format: peeked.format,
          contentType: res.headers.get("content-type") ?? "",
          kind: "http",
          protocol: new URL(source.url).protocol === "https:" ? "https" : "http",
          remoteAddr: new URL(res.url || source.url).host,
          log,
          signal: options.signal,
          probeTimeoutMs: options.probeTimeoutMs,
          idleTimeoutMs: options.idleTimeoutMs,
          close: () => conn.abort(),
        });
    }
  } catch (error) {
    conn.abort();
    throw error;
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
  }
}

/**
 * Registers the `http` and `https` schemes. Nothing is registered at import time.
 *
 * @example
 * ```ts
 * registerHttpSources({ log });
 * // streams: { cam: "http://admin:pw@192.168.1.10/cgi-bin/mjpg/video.cgi" }
 * ```
 */
export function registerHttpSources(options: { log?: Logger } = {}): void {
  const factory = (url: string, context: { signal: AbortSignal }) =>
    dialHttp(url, { log: options.log, signal: context.signal });
  registerSource("http", factory);
  registerSource("https", factory);
}
