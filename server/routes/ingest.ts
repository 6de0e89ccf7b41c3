/**
 * HTTP ingest, as go2rtc: `POST /api/stream.flv?dst=`, `/api/stream.ts?dst=`,
 * `/api/stream.mjpeg?dst=` and `/api/stream?dst=` (format sniffed) push an upload into an existing
 * stream (`ffmpeg -re -i in.mp4 -c copy -f flv -method POST http://host:1984/api/stream.flv?dst=cam`).
 *
 * The request body is demuxed as it arrives (Web Streams, memory bounded by the demuxers) by a
 * producer that is the stream's publisher while the upload lasts, exactly like an RTSP publisher
 * (ANNOUNCE/RECORD): viewers get it before the configured sources, and are moved to the next
 * publisher if it leaves. The response comes when the upload ends. An upload that sends nothing for
 * 30 s is ended.
 *
 * Pushing creates no source and runs no program; it needs a user allowed to write (not a viewer)
 * and to access the stream.
 *
 * @module
 */
import type { Context, Hono } from "hono";
import { SourceError } from "../../lib/core/errors.ts";
import { peekBody } from "../../lib/protocol/http/body_peek.ts";
import { type ByteStreamFormat, openByteStream } from "../../lib/protocol/http/byte_stream_producer.ts";
import { STREAM_FORMAT_LABEL } from "../../lib/protocol/http/stream_format.ts";
import { requestUser } from "../auth.ts";
import type { AppContext } from "../context.ts";
import { ApiError } from "../errors.ts";
import { peerOf, streamOf } from "./output_common.ts";

/** How long an ingest may send nothing before it is ended. */
const INGEST_IDLE_MS = 30_000;
/** How long the first bytes and complete tracks may take. */
const INGEST_PROBE_MS = 10_000;

const ROUTES: { path: string; formats: readonly ByteStreamFormat[] | undefined; name: string }[] = [
  { path: "/api/stream.flv", formats: ["flv"], name: "FLV" },
  { path: "/api/stream.ts", formats: ["mpegts"], name: "MPEG-TS" },
  { path: "/api/stream.mjpeg", formats: ["multipart", "mjpeg"], name: "MJPEG (multipart or raw JPEG)" },
  { path: "/api/stream", formats: undefined, name: "FLV, MPEG-TS or MJPEG" },
];

/**
 * Adds the ingest routes.
 *
 * @example
 * ```ts
 * ingestRoutes(app, ctx);
 * // ffmpeg -re -i in.mp4 -c copy -f mpegts -method POST "http://127.0.0.1:1984/api/stream.ts?dst=cam"
 * ```
 */
export function ingestRoutes(app: Hono, ctx: AppContext): void {
  for (const route of ROUTES) app.post(route.path, (c) => ingest(c, ctx, route.formats, route.name));
}

async function ingest(c: Context, ctx: AppContext, formats: readonly ByteStreamFormat[] | undefined, name: string): Promise<Response> {
  const dst = c.req.query("dst");
  if (!dst) {
    throw new ApiError(400, `Missing query parameter dst=: name the stream to push into, e.g. ${c.req.path}?dst=camera1.`, "BadRequest");
  }
  const user = requestUser(c);
  const stream = streamOf(ctx, dst, user, "publish");
  const body = c.req.raw.body;
  if (!body) throw new ApiError(400, `The request has no body: send ${name} in it.`, "BadRequest");
  const log = ctx.log.child({ module: "ingest", stream: stream.name });
  const label = `${c.req.method} ${c.req.path}?dst=${stream.name}`;
  const signal = c.req.raw.signal;
  const contentType = c.req.header("content-type") ?? "";
  let producer;
  try {
    const peeked = await peekBody(new Response(body, { headers: { "content-type": contentType } }), label, signal, INGEST_PROBE_MS);
    const format = peeked.format === "jpeg" ? "mjpeg" : peeked.format;
    if (format === "hls" || (formats && !formats.includes(format))) {
      throw new ApiError(
        415,
        `${label} takes ${name}, but the body is ${STREAM_FORMAT_LABEL[peeked.format]} ` +
          `(Content-Type ${contentType ? JSON.stringify(contentType) : "(none)"}). Use ${ROUTES.find((r) => r.formats?.includes(format as ByteStreamFormat))?.path ?? "/api/stream"} or send ${name}.`,
        "UnsupportedMediaType",
      );
    }
    producer = await openByteStream(peeked.body, {
      url: `ingest:${stream.name}`,
      format,
      contentType,
      kind: "ingest",
      ...peerOf(ctx, c),
      protocol: "http",
      log,
      signal,
      probeTimeoutMs: INGEST_PROBE_MS,
      idleTimeoutMs: INGEST_IDLE_MS,
    });
  } catch (error) {
    body.cancel().catch(() => {});
    if (error instanceof SourceError) {
      const status = /not a media stream/.test(error.message) ? 415 : 400;
      throw new ApiError(status, error.message.replace(/^Source "[^"]*": /, `${label}: `), status === 415 ? "UnsupportedMediaType" : "BadRequest");
    }
    throw error;
  }
  try {
    await stream.addPublisher(producer);
    log.info("ingest started", { format: producer.format, medias: producer.info().medias });
    await producer.start();
  } catch (error) {
    log.info("ingest ended with an error", { error: String((error as Error)?.message ?? error) });
  } finally {
    stream.removePublisher(producer);
    await producer.stop();
  }
  log.info("ingest ended", { bytes: producer.bytesIn });
  return c.body(null, 200);
}
