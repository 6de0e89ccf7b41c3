/**
 * HLS, go2rtc-compatible: `GET /api/stream.m3u8?src=` opens a session and answers a multivariant
 * playlist pointing at `hls/playlist.m3u8?id=`; the media playlist lists `segment.ts?id=&n=`
 * (MPEG-TS, the default) or `init.mp4?id=` + `segment.m4s?id=&n=` (fMP4, with `mp4` or any
 * `video=`/`audio=` filter). Also `{"type":"hls","value":<codecs>}` on `/api/ws` (fMP4).
 *
 * With `hls.variants` the playlist also lists lower-resolution levels as `hls/variant.m3u8?id=&v=`
 * (adaptive bitrate, hls_abr.ts); the `/api/ws` form lists only the stream's own version, as go2rtc's
 * player rewrites the first URI of the playlist it gets there and no other.
 *
 * Each session has its own id (go2rtc's players use it in every URL) but reads a feed shared by all
 * sessions of the same stream, container and codec filter: the stream is muxed and segmented once,
 * so memory grows with streams, not viewers. Sessions are bounded by `hls.max_sessions` and die
 * `hls.session_timeout` seconds after their last request; a feed keeps at most
 * `hls.max_session_bytes` of segments and closes a few seconds after its last session.
 *
 * @module
 */
import type { Context, Hono } from "hono";
import { HlsLimitError } from "../../lib/protocol/hls/session_store.ts";
import { HlsSessionStore } from "../../lib/protocol/hls/session_store.ts";
import type { HlsSession } from "../../lib/protocol/hls/session.ts";
import { multivariantPlaylist } from "../../lib/protocol/hls/playlist.ts";
import { mp4Medias, outputMedias, TS_CODECS } from "../../lib/protocol/http/output_medias.ts";
import { parseMseCodecs } from "../../lib/protocol/mse/codecs.ts";
import { mayRead, requestUser } from "../auth.ts";
import type { AppContext } from "../context.ts";
import { ApiError } from "../errors.ts";
import { abrPlaylist } from "../../lib/protocol/hls/variants.ts";
import { abrSettings, HlsAbr } from "./hls_abr.ts";
import { peerOf, requestStream, streamOf } from "./output_common.ts";
import type { WsHandlers } from "./ws.ts";

const PLAYLIST_TYPE = "application/vnd.apple.mpegurl";
const NO_CACHE = "no-cache, no-store";
// How long a playlist or segment request may wait for the segment being written.
const WAIT_MS = 10_000;
// A variant's first playlist also waits for its ffmpeg to start and make three segments.
const VARIANT_WAIT_MS = 20_000;

/**
 * Registers the HLS endpoints and the `hls` WebSocket message; returns the session store (close it
 * on shutdown to free every session at once).
 *
 * @example
 * ```ts
 * const hls = hlsRoutes(app, ctx, wsHandlers);
 * // ffmpeg -i "http://127.0.0.1:1984/api/stream.m3u8?src=camera1" ...
 * ```
 */
export function hlsRoutes(app: Hono, ctx: AppContext, wsHandlers: WsHandlers): HlsSessionStore {
  const cfg = ctx.config.hls;
  const store = new HlsSessionStore({
    maxSessions: cfg?.max_sessions ?? 50,
    sessionTimeoutMs: Math.max(1, cfg?.session_timeout ?? 30) * 1000,
    maxSessionBytes: cfg?.max_session_bytes ?? 16_000_000,
    log: ctx.log.child({ module: "hls" }),
  });

  // The stream of each session: its playlist and segments need the same access as the stream.
  const streamOfSession = new WeakMap<HlsSession, string>();
  const open = async (...args: Parameters<HlsSessionStore["create"]>): Promise<HlsSession> => {
    try {
      const session = await store.create(...args);
      streamOfSession.set(session, args[0].name);
      return session;
    } catch (error) {
      if (error instanceof HlsLimitError) throw new ApiError(503, error.message, error.name);
      throw error;
    }
  };

  const sessionOf = (c: Context): HlsSession => {
    const id = c.req.query("id") ?? "";
    const session = store.get(id);
    if (!session) {
      throw new ApiError(
        404,
        `HLS session "${id}" not found: it expired (no request for ${store.sessionTimeoutMs / 1000} s) or never existed. ` +
          `Start a new one with GET /api/stream.m3u8?src=<stream>.`,
        "NotFound",
      );
    }
    const user = requestUser(c);
    const name = streamOfSession.get(session);
    if (user && name !== undefined && !mayRead(user, name)) {
      throw new ApiError(403, `User "${user.name}" may not access stream "${name}".`, "Forbidden");
    }
    return session;
  };
  // A player that authenticated with ?token= cannot add it to the playlist's relative URLs itself.
  const tokenQuery = (c: Context): string => {
    const token = c.req.query("token");
    return token ? `&token=${encodeURIComponent(token)}` : "";
  };

  // Adaptive bitrate: lower-resolution versions listed next to the stream's own (hls.variants).
  const settings = abrSettings(ctx.config, ctx.log.child({ module: "hls" }));
  const abr = settings ? new HlsAbr(ctx, settings, open) : undefined;

  app.get("/api/stream.m3u8", async (c) => {
    const q = new URL(c.req.url).searchParams;
    const stream = requestStream(ctx, c);
    const fmp4 = q.has("mp4") || q.has("video") || q.has("audio");
    const medias = fmp4 ? mp4Medias(q) : outputMedias(q, TS_CODECS, { video: TS_CODECS.video, audio: ["MPEG4-GENERIC"] });
    const request = { format: fmp4 ? "fmp4" : "mpegts", medias, peer: peerOf(ctx, c) } as const;
    const session = await open(stream, request);
    const uri = `hls/playlist.m3u8?id=${session.sessionId}${tokenQuery(c)}`;
    const plan = abr ? await abr.plan(session, stream, request) : undefined;
    const text = plan?.variants.length
      ? abrPlaylist(
        { uri, bandwidth: plan.bandwidth ?? 2_000_000, codecs: session.codecs(), width: plan.width, height: plan.height },
        plan.variants.map((v) => ({
          uri: `hls/variant.m3u8?id=${session.sessionId}&v=${v.name}${tokenQuery(c)}`,
          bandwidth: v.bitrate,
          width: v.width,
          height: v.height,
        })),
      )
      : multivariantPlaylist(uri, session.codecs());
    return c.body(text, 200, { "Content-Type": PLAYLIST_TYPE, "Cache-Control": NO_CACHE });
  });

  // One level of the adaptive playlist: its own session (segments under its own id), opened on the
  // first request. Every request also keeps the playlist's own session alive, which the player
  // stops asking for while it plays a variant.
  app.get("/api/hls/variant.m3u8", async (c) => {
    const master = sessionOf(c);
    const level = c.req.query("v") ?? "";
    const session = abr ? await abr.session(master, level, (s) => store.get(s.sessionId) === s) : undefined;
    if (!session) {
      const listed = abr?.levels(master) ?? [];
      throw new ApiError(
        404,
        `HLS session "${master.sessionId}" has no variant "${level}"` +
          (listed.length ? ` (its playlist lists ${listed.join(", ")})` : " (hls.variants gives this stream none)"),
        "NotFound",
      );
    }
    streamOfSession.set(session, streamOfSession.get(master)!);
    master.touch();
    const text = await session.playlist(VARIANT_WAIT_MS, tokenQuery(c));
    session.touch();
    if (text === undefined) {
      throw new ApiError(
        504,
        `HLS variant "${level}" of session "${master.sessionId}": no segment within ${VARIANT_WAIT_MS / 1000} s; ` +
          "is ffmpeg there (ffmpeg.bin) and the stream sending video?",
        "Timeout",
      );
    }
    return c.body(text, 200, { "Content-Type": PLAYLIST_TYPE, "Cache-Control": NO_CACHE });
  });

  app.get("/api/hls/playlist.m3u8", async (c) => {
    const session = sessionOf(c);
    const text = await session.playlist(WAIT_MS, tokenQuery(c));
    session.touch();
    if (text === undefined) {
      throw new ApiError(504, `HLS session "${session.sessionId}": no segment within ${WAIT_MS / 1000} s; is the source sending video?`, "Timeout");
    }
    return c.body(text, 200, { "Content-Type": PLAYLIST_TYPE, "Cache-Control": NO_CACHE });
  });

  const segment = (ext: "ts" | "m4s", type: string) => async (c: Context) => {
    const session = sessionOf(c);
    const expected = session.format === "fmp4" ? "m4s" : "ts";
    if (ext !== expected) {
      throw new ApiError(400, `HLS session "${session.sessionId}" serves .${expected} segments, not .${ext}.`, "BadRequest");
    }
    const n = Number(c.req.query("n"));
    if (!Number.isInteger(n) || n < 0) throw new ApiError(400, "Query parameter n= must be a segment number (0, 1, ...).", "BadRequest");
    const data = await session.segment(n, WAIT_MS);
    session.touch();
    if (!data) {
      throw new ApiError(404, `HLS session "${session.sessionId}": segment ${n} is not available (evicted or not made yet).`, "NotFound");
    }
    return new Response(data as Uint8Array<ArrayBuffer>, { headers: { "Content-Type": type, "Cache-Control": NO_CACHE } });
  };
  app.get("/api/hls/segment.ts", segment("ts", "video/mp2t"));
  app.get("/api/hls/segment.m4s", segment("m4s", "video/iso.segment"));

  app.get("/api/hls/init.mp4", async (c) => {
    const session = sessionOf(c);
    if (session.format !== "fmp4") {
      throw new ApiError(400, `HLS session "${session.sessionId}" is MPEG-TS and has no init segment.`, "BadRequest");
    }
    const data = await session.init(WAIT_MS);
    session.touch();
    if (!data) throw new ApiError(504, `HLS session "${session.sessionId}": no keyframe within ${WAIT_MS / 1000} s.`, "Timeout");
    return new Response(data as Uint8Array<ArrayBuffer>, { headers: { "Content-Type": "video/mp4", "Cache-Control": NO_CACHE } });
  });

  wsHandlers.set("hls", async (message, conn) => {
    let stream;
    try {
      stream = streamOf(ctx, conn.query.get("src"), conn.user);
    } catch (error) {
      conn.send({ type: "error", value: (error as Error).message });
      conn.close(1008, "stream not found");
      return;
    }
    const medias = parseMseCodecs(typeof message.value === "string" ? message.value : "");
    const session = await open(stream, {
      format: "fmp4",
      medias,
      peer: { protocol: "ws", remoteAddr: conn.remoteAddr, userAgent: conn.userAgent },
    });
    conn.send({ type: "hls", value: multivariantPlaylist(`hls/playlist.m3u8?id=${session.sessionId}`, session.codecs()) });
  });

  return store;
}
