/**
 * What the media output routes share: finding the stream named by `src=` (404 naming it, 403 for a
 * user without access), the peer description for `/api/streams`, durations like `10s`, and the
 * WebSocket sink with bounded buffering.
 *
 * @module
 */
import type { Context } from "hono";
import { StreamNotFoundError } from "../../lib/core/errors.ts";
import type { Stream } from "../../lib/core/stream.ts";
import type { ChunkSink } from "../../lib/protocol/http/chunk_sink.ts";
import type { OutputPeer } from "../../lib/protocol/http/output_consumer.ts";
import { matchesPattern, may, type StreamAction } from "../access/account.ts";
import { type RequestUser, requestUser } from "../auth.ts";
import type { AppContext } from "../context.ts";
import { ApiError } from "../errors.ts";
import type { WsConnection } from "./ws.ts";

/**
 * Whether `name` matches one of a user's stream patterns (`*` wildcards; empty list = all).
 *
 * @example
 * ```ts
 * streamAllowed(["front_*"], "front_door"); // true
 * ```
 */
export function streamAllowed(patterns: readonly string[], name: string): boolean {
  return patterns.length === 0 || matchesPattern(patterns, name);
}

/**
 * The stream a request's `src=` names.
 *
 * @throws {ApiError} 400 without `src=`, 403 when the user may not watch it (or, with `action`
 *   `publish`, publish into it).
 * @throws {StreamNotFoundError} (404) for an unknown name.
 * @throws {StreamDisabledError} (503) with `action` `publish`, while the stream is disabled.
 * @example
 * ```ts
 * const stream = streamOf(ctx, conn.query.get("src"), conn.user);
 * ```
 */
export function streamOf(
  ctx: AppContext,
  src: string | null | undefined,
  user?: RequestUser,
  action: StreamAction = "read",
): Stream {
  if (!src) throw new ApiError(400, "Missing query parameter src=: name the stream, e.g. ?src=camera1.", "BadRequest");
  const stream = ctx.hub.get(src);
  if (!stream) throw new StreamNotFoundError(src);
  if (user && !may(user, action, stream.name)) {
    throw new ApiError(
      403,
      action === "publish"
        ? `User "${user.name}" may not publish to stream "${stream.name}" (api.auth.users.${user.name}.publish).`
        : `User "${user.name}" may not access stream "${stream.name}".`,
      "Forbidden",
    );
  }
  // A disabled stream takes no publisher; refused here, before a WebRTC or HTTP ingest starts.
  const refused = action === "publish" ? stream.disabledError() : undefined;
  if (refused) throw refused;
  return stream;
}

/**
 * The stream of an HTTP request's `src=` (see {@link streamOf}).
 *
 * @example
 * ```ts
 * app.get("/api/stream.ts", (c) => { const stream = requestStream(ctx, c); ... });
 * ```
 */
export function requestStream(ctx: AppContext, c: Context): Stream {
  return streamOf(ctx, c.req.query("src"), requestUser(c));
}

/**
 * Who asked, for `/api/streams`.
 *
 * @example
 * ```ts
 * new TsConsumer(medias, body, peerOf(ctx, c)); // { protocol: "http", remoteAddr: "10.0.0.7", userAgent: "VLC/3.0" }
 * ```
 */
export function peerOf(ctx: AppContext, c: Context, protocol = "http"): OutputPeer {
  return { protocol, remoteAddr: ctx.remoteAddress?.(c), userAgent: c.req.header("user-agent") };
}

/**
 * Seconds in go2rtc's forms (`10`, `10s`, `1.5s`, `2m`, `500ms`) as milliseconds; undefined when
 * absent or invalid.
 *
 * @example
 * ```ts
 * parseDurationMs("10s"); // 10000
 * ```
 */
export function parseDurationMs(text: string | null | undefined): number | undefined {
  if (!text) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/i.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = (m[2] ?? "s").toLowerCase();
  const ms = unit === "ms" ? n : unit === "m" ? n * 60_000 : unit === "h" ? n * 3_600_000 : n * 1000;
  return ms > 0 ? ms : undefined;
}

/**
 * Headers every live media response gets.
 *
 * @example
 * ```ts
 * new Response(body.readable, { headers: liveHeaders("video/mp2t") });
 * ```
 */
export function liveHeaders(contentType: string): Record<string, string> {
  return {
    "Content-Type": contentType,
    "Cache-Control": "no-cache, no-store",
    "X-Content-Type-Options": "nosniff",
  };
}

/**
 * `attachment; filename="..."` with the name made header-safe.
 *
 * @example
 * ```ts
 * attachment('a"b.mp4'); // 'attachment; filename="a_b.mp4"'
 * ```
 */
export function attachment(filename: string): string {
  return `attachment; filename="${filename.replace(/["\\\r\n]/g, "_")}"`;
}

const WS_HIGH_WATER = 2 * 1024 * 1024;
const WS_LOW_WATER = 512 * 1024;

/**
 * Binary messages on a `/api/ws` connection with bounded buffering: once the socket holds more than
 * 2 MiB unsent, writes wait (polling the socket's buffered amount) until it drained below 512 KiB,
 * so a slow viewer's frame queue drops instead of memory growing.
 *
 * @example
 * ```ts
 * const sink = wsSink(conn);
 * await sink.write(fragment); // waits while the socket is backed up
 * ```
 */
export function wsSink(conn: WsConnection): ChunkSink & { close(): void } {
  let closed = false;
  const drained = () =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (closed || conn.bufferedAmount() < WS_LOW_WATER) resolve();
        else setTimeout(check, 20);
      };
      setTimeout(check, 20);
    });
  return {
    write(chunk) {
      if (closed) return;
      conn.sendBinary(chunk as Uint8Array<ArrayBuffer>);
      if (conn.bufferedAmount() > WS_HIGH_WATER) return drained();
    },
    close() {
      closed = true;
    },
  };
}
