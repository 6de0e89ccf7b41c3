/**
 * Media over HTTP, go2rtc-compatible: `/api/stream.mp4|.ts|.flv|.aac|.mjpeg` (streaming bodies),
 * `/api/frame.mp4|.jpeg` (one keyframe), and the `mse` and `mjpeg` messages of `/api/ws`.
 *
 * Every streaming response is a `ReadableStream` fed by one consumer on the stream. The consumer is
 * removed exactly once, by whichever comes first: the client cancelling the body or aborting the
 * request, a write or muxer failure, `duration=`, or the stream being deleted. Slow clients are
 * bounded: the body holds about 1 MiB, then the viewer's frame queue drops (to the next keyframe).
 *
 * @module
 */
import type { Context, Hono } from "hono";
import type { Media } from "../../lib/core/media.ts";
import { MultipartWriter } from "../../lib/format/mjpeg/multipart_writer.ts";
import { AacConsumer } from "../../lib/protocol/http/aac_consumer.ts";
import { FlvConsumer } from "../../lib/protocol/http/flv_consumer.ts";
import { keyframeToMp4 } from "../../lib/protocol/http/frame_mp4.ts";
import { HttpBody } from "../../lib/protocol/http/http_body.ts";
import { grabKeyframe, KeyframeTimeoutError } from "../../lib/protocol/http/keyframe.ts";
import { MJPEG_MEDIAS } from "../../lib/protocol/http/mjpeg_consumer.ts";
import { Mp4Consumer } from "../../lib/protocol/http/mp4_consumer.ts";
import { FLV_CODECS, mp4Medias, outputMedias, TS_CODECS } from "../../lib/protocol/http/output_medias.ts";
import type { OutputConsumer } from "../../lib/protocol/http/output_consumer.ts";
import { OutputSession } from "../../lib/protocol/http/output_session.ts";
import { TsConsumer } from "../../lib/protocol/http/ts_consumer.ts";
import { JpegEncodeError } from "../../lib/protocol/jpeg/errors.ts";
import { jpegPictureOptions } from "../../lib/protocol/jpeg/ffmpeg_args.ts";
import { encodeJpeg } from "../../lib/protocol/jpeg/snapshot.ts";
import { MjpegFeeds } from "../../lib/protocol/jpeg/shared_transcoder.ts";
import { JpegSnapshotCache } from "../../lib/protocol/jpeg/snapshot_cache.ts";
import { createMseConsumer } from "../../lib/protocol/mse/consumer.ts";
import type { AppContext } from "../context.ts";
import { ApiError } from "../errors.ts";
import {
  attachment,
  liveHeaders,
  parseDurationMs,
  peerOf,
  requestStream,
  streamOf,
  wsSink,
} from "./output_common.ts";
import type { WsConnection, WsHandlers } from "./ws.ts";

const SNAPSHOT_VIDEO: Media[] = [
  { kind: "video", direction: "sendonly", codecs: [{ name: "H264", clockRate: 0 }, { name: "H265", clockRate: 0 }] },
];
const KEYFRAME_TIMEOUT_MS = 10_000;
const MJPEG_CONTENT_TYPE = new MultipartWriter().contentType;

/** Turns the JPEG and snapshot errors into HTTP answers that say what to do. */
function mapSnapshotError(error: unknown): unknown {
  if (error instanceof JpegEncodeError) {
    const status = error.code === "FfmpegMissing" || error.code === "UnsupportedCodec"
      ? 415
      : error.code === "Timeout"
      ? 504
      : 502;
    return new ApiError(status, error.message, error.name);
  }
  if (error instanceof KeyframeTimeoutError) return new ApiError(504, error.message, error.name);
  if (error instanceof Error && error.name === "Mp4EmptyError") return new ApiError(502, error.message, error.name);
  return error;
}

/**
 * Runs one streaming output for a request: attaches the consumer (which writes into `body`) and
 * returns the streaming response once the stream accepted it.
 */
async function streamResponse(
  c: Context,
  ctx: AppContext,
  consumer: OutputConsumer,
  body: HttpBody,
  headers: () => Record<string, string>,
  durationMs?: number,
): Promise<Response> {
  const stream = requestStream(ctx, c);
  const session = new OutputSession(stream, consumer, {
    signal: c.req.raw.signal,
    durationMs,
    log: ctx.log.child({ module: "http" }),
    onClose: () => body.close(),
  });
  body.onCancel = () => void session.close("client went away");
  await session.open();
  return new Response(body.readable, { headers: headers() });
}

/**
 * Registers the HTTP media outputs and the `mse`/`mjpeg` WebSocket messages.
 *
 * @example
 * ```ts
 * outputsRoutes(app, ctx, wsHandlers);
 * // GET /api/stream.mp4?src=camera1&duration=10&filename=clip.mp4
 * ```
 */
export function outputsRoutes(app: Hono, ctx: AppContext, wsHandlers: WsHandlers): void {
  const ffmpegBin = () => (typeof ctx.config.ffmpeg?.bin === "string" && ctx.config.ffmpeg.bin) || "ffmpeg";
  const jpegCache = new JpegSnapshotCache();
  const jpegInFlight = new Map<string, Promise<{ jpeg: Uint8Array; origin: string }>>();
  const mjpegFeeds = new MjpegFeeds({ log: ctx.log.child({ module: "mjpeg" }) });

  app.get("/api/stream.mp4", async (c) => {
    const q = new URL(c.req.url).searchParams;
    const durationMs = parseDurationMs(q.get("duration"));
    const ua = c.req.header("user-agent") ?? "";
    if (ua.includes(" Safari/") && !ua.includes(" Chrome/") && !ua.includes(" Chromium/") && !durationMs) {
      // Safari cannot play an endless progressive MP4; go2rtc sends it to HLS (fMP4) instead.
      requestStream(ctx, c);
      const next = new URLSearchParams(q);
      if (!next.has("mp4")) next.set("mp4", "");
      return c.redirect(`stream.m3u8?${next}`, 301);
    }
    const rotate = Number(q.get("rotate"));
    const body = new HttpBody();
    const consumer = new Mp4Consumer({
      medias: mp4Medias(q),
      sink: body,
      peer: peerOf(ctx, c),
      rotate: rotate === 90 || rotate === 180 || rotate === 270 ? rotate : 0,
    });
    const filename = q.get("filename");
    return await streamResponse(c, ctx, consumer, body, () => ({
      ...liveHeaders(consumer.contentType()),
      ...(filename ? { "Content-Disposition": attachment(filename) } : {}),
    }), durationMs);
  });

  app.get("/api/stream.ts", async (c) => {
    const q = new URL(c.req.url).searchParams;
    const body = new HttpBody();
    const consumer = new TsConsumer(outputMedias(q, TS_CODECS), body, peerOf(ctx, c));
    return await streamResponse(c, ctx, consumer, body, () => liveHeaders("video/mp2t"), parseDurationMs(q.get("duration")));
  });

  app.get("/api/stream.flv", async (c) => {
    const q = new URL(c.req.url).searchParams;
    const body = new HttpBody();
    const consumer = new FlvConsumer(outputMedias(q, FLV_CODECS), body, peerOf(ctx, c));
    return await streamResponse(c, ctx, consumer, body, () => liveHeaders("video/x-flv"), parseDurationMs(q.get("duration")));
  });

  app.get("/api/stream.aac", async (c) => {
    const q = new URL(c.req.url).searchParams;
    const body = new HttpBody({ highWaterMark: 64 * 1024 });
    const consumer = new AacConsumer(body, peerOf(ctx, c));
    return await streamResponse(c, ctx, consumer, body, () => liveHeaders("audio/aac"), parseDurationMs(q.get("duration")));
  });

  app.get("/api/stream.mjpeg", async (c) => {
    const q = new URL(c.req.url).searchParams;
    const stream = requestStream(ctx, c);
    const body = new HttpBody({ highWaterMark: 512 * 1024 });
    const signal = c.req.raw.signal;
    // Viewers of the same stream and picture options share one transcoder (lib/protocol/jpeg/shared_transcoder.ts).
    let viewer;
    try {
      viewer = await mjpegFeeds.join(stream, { ...jpegPictureOptions(q), ffmpegBin: ffmpegBin() }, {
        kind: "multipart",
        write: (part) => body.write(part),
        peer: peerOf(ctx, c),
        onClose: () => body.close(),
      });
    } catch (error) {
      throw mapSnapshotError(error);
    }
    const joined = viewer;
    const onAbort = () => void joined.close("request aborted");
    signal.addEventListener("abort", onAbort, { once: true });
    body.onCancel = () => void joined.close("client went away");
    const sinkClose = joined.sink.onClose;
    joined.sink.onClose = (reason) => {
      signal.removeEventListener("abort", onAbort);
      sinkClose?.(reason);
    };
    if (signal.aborted) void joined.close("request aborted");
    const durationMs = parseDurationMs(q.get("duration"));
    if (durationMs) joined.closeAfter(durationMs);
    return new Response(body.readable, { headers: liveHeaders(MJPEG_CONTENT_TYPE) });
  });

  app.get("/api/frame.mp4", async (c) => {
    const q = new URL(c.req.url).searchParams;
    const stream = requestStream(ctx, c);
    try {
      const { codec, frame, origin } = await grabKeyframe(stream, SNAPSHOT_VIDEO, {
        timeoutMs: KEYFRAME_TIMEOUT_MS,
        signal: c.req.raw.signal,
        peer: peerOf(ctx, c),
      });
      const filename = q.get("filename");
      return new Response(keyframeToMp4(codec, frame) as Uint8Array<ArrayBuffer>, {
        headers: {
          "Content-Type": "video/mp4",
          "Cache-Control": "no-cache, no-store",
          "X-Frame-Source": origin,
          ...(filename ? { "Content-Disposition": attachment(filename) } : {}),
        },
      });
    } catch (error) {
      throw mapSnapshotError(error);
    }
  });

  app.get("/api/frame.jpeg", async (c) => {
    const q = new URL(c.req.url).searchParams;
    const stream = requestStream(ctx, c);
    const picture = jpegPictureOptions(q);
    const key = `${stream.name}|${picture.width ?? ""}|${picture.height ?? ""}|${picture.rotate ?? 0}`;
    const reply = (jpeg: Uint8Array, origin: string) =>
      new Response(jpeg as Uint8Array<ArrayBuffer>, {
        headers: { "Content-Type": "image/jpeg", "Cache-Control": "no-cache, no-store", "X-Frame-Source": origin },
      });
    const maxAge = parseDurationMs(q.get("cache"));
    if (maxAge) {
      const hit = jpegCache.get(key, maxAge);
      if (hit) return reply(hit.jpeg, "jpeg-cache");
    }
    // Requests for the same picture at the same moment share one ffmpeg run.
    let pending = jpegInFlight.get(key);
    if (!pending) {
      pending = (async () => {
        const { codec, frame, origin } = await grabKeyframe(stream, [...MJPEG_MEDIAS], {
          timeoutMs: KEYFRAME_TIMEOUT_MS,
          peer: peerOf(ctx, c),
        });
        const jpeg = await encodeJpeg(codec, frame, { ...picture, ffmpegBin: ffmpegBin() });
        jpegCache.set(key, jpeg);
        return { jpeg, origin };
      })();
      jpegInFlight.set(key, pending);
      pending.then(() => jpegInFlight.delete(key), () => jpegInFlight.delete(key));
    }
    try {
      const { jpeg, origin } = await pending;
      return reply(jpeg, origin);
    } catch (error) {
      throw mapSnapshotError(error);
    }
  });

  // One media output per WebSocket: a new request replaces the previous one.
  const wsOutputs = new WeakMap<WsConnection, { close(reason: string): Promise<void> }>();
  const attachWs = async (conn: WsConnection, consumer: OutputConsumer, sink: { close(): void }) => {
    const user = conn.user;
    let stream;
    try {
      stream = streamOf(ctx, conn.query.get("src"), user);
    } catch (error) {
      conn.send({ type: "error", value: (error as Error).message });
      conn.close(1008, "stream not found");
      return;
    }
    await wsOutputs.get(conn)?.close("replaced");
    const session = new OutputSession(stream, consumer, {
      log: ctx.log.child({ module: "ws" }),
      onClose: () => sink.close(),
    });
    wsOutputs.set(conn, session);
    conn.onClose(() => void session.close("socket closed"));
    await session.open();
  };

  wsHandlers.set("mse", async (message, conn) => {
    const sink = wsSink(conn);
    const consumer = createMseConsumer({
      codecs: typeof message.value === "string" ? message.value : "",
      sink,
      onMimeType: (mime) => conn.send({ type: "mse", value: mime }),
      peer: { protocol: "ws", remoteAddr: conn.remoteAddr, userAgent: conn.userAgent },
    });
    await attachWs(conn, consumer, sink);
  });

  wsHandlers.set("mjpeg", async (_message, conn) => {
    let stream;
    try {
      stream = streamOf(ctx, conn.query.get("src"), conn.user);
    } catch (error) {
      conn.send({ type: "error", value: (error as Error).message });
      conn.close(1008, "stream not found");
      return;
    }
    await wsOutputs.get(conn)?.close("replaced");
    const sink = wsSink(conn);
    let announced = false;
    const viewer = await mjpegFeeds.join(stream, { ffmpegBin: ffmpegBin() }, {
      write: (jpeg) => {
        if (!announced) {
          announced = true;
          conn.send({ type: "mjpeg" });
        }
        return sink.write(jpeg);
      },
      format: "ws/mjpeg",
      peer: { protocol: "ws", remoteAddr: conn.remoteAddr, userAgent: conn.userAgent },
      onClose: () => sink.close(),
    });
    wsOutputs.set(conn, viewer);
    conn.onClose(() => void viewer.close("socket closed"));
  });
}
