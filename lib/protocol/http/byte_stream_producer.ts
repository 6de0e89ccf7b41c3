/**
 * A producer over a byte stream that carries a container: an HTTP response body (MJPEG multipart,
 * HTTP-FLV, MPEG-TS), a TCP socket (`tcp://`), or an ingest upload (`POST /api/stream.flv?dst=`).
 *
 * {@link openByteStream} reads until it knows the format (from the caller, or sniffed) and every
 * track's codec (parameter sets, AAC config), bounded by a probe timeout; the frames read while
 * probing are kept (bounded) and handed out at start so the first GOP is not lost. `start()` then
 * demuxes chunk by chunk straight into the receivers: no promise per frame, only per chunk.
 *
 * Memory is bounded by the demuxers' own limits; a body that stops sending for `idleTimeoutMs`
 * ends the run with an error (the stream reconnects), so a stalled camera never hangs a stream.
 *
 * @module
 */
import type { Codec } from "../../core/codec.ts";
import { type ConnectionInfo, nextConnectionId, type Producer } from "../../core/connection.ts";
import { redactUrl, SourceError } from "../../core/errors.ts";
import type { Frame } from "../../core/frame.ts";
import { Receiver } from "../../core/fanout.ts";
import { type Logger, silentLogger } from "../../core/log.ts";
import { type Media, mediaToString } from "../../core/media.ts";
import { FlvDemuxer } from "../../format/flv/flv_demuxer.ts";
import { MultipartParser } from "../../format/mjpeg/multipart_parser.ts";
import { TsDemuxer } from "../../format/mpegts/ts_demuxer.ts";
import { JpegSplitter } from "../exec/jpeg_splitter.ts";
import { type AdtsFrame, AdtsSplitter, adtsToAudioSpecificConfig } from "../../codec/aac/adts.ts";
import { buildAacFmtp } from "../../codec/aac/fmtp.ts";
import { AnnexbSplitter } from "./annexb_stream.ts";
import { errorText } from "./client.ts";
import {
  describeBody,
  detectStreamFormat,
  STREAM_FORMAT_LABEL,
  STREAM_FORMAT_NAMES,
} from "./stream_format.ts";
import { concatBytes } from "../../core/bytes.ts";

/** Container formats a byte stream may carry. */
export type ByteStreamFormat = "multipart" | "mjpeg" | "flv" | "mpegts" | "adts" | "h264" | "h265";

/** Options of {@link openByteStream}. */
export interface ByteStreamOptions {
  /** The source URL, for errors and `/api/streams` (secrets are redacted there). */
  url: string;
  /** The format, when known; otherwise sniffed from {@link contentType} and the first bytes. */
  format?: ByteStreamFormat;
  /** Formats accepted when sniffing (default: all). */
  formats?: readonly ByteStreamFormat[];
  /** The `Content-Type` the body came with, for sniffing and error messages. */
  contentType?: string;
  /** What `/api/streams` shows: `format` becomes `<kind>/<format>`, e.g. `http/flv`. */
  kind: string;
  /** Transport for `/api/streams`: `http`, `tcp`... */
  protocol: string;
  remoteAddr?: string;
  userAgent?: string;
  log?: Logger;
  /** Aborts probing. */
  signal?: AbortSignal;
  /** How long to wait for the format and complete tracks. Default 10 000 ms. */
  probeTimeoutMs?: number;
  /** No bytes for this long while running ends the run with an error. Default 15 000 ms; 0 = never. */
  idleTimeoutMs?: number;
  /** Releases the connection (abort the fetch, close the socket). Called once, on stop or failure. */
  close?: () => void;
}

const DEFAULT_PROBE_TIMEOUT_MS = 10_000;
const DEFAULT_IDLE_TIMEOUT_MS = 15_000;
/** Once one track is complete, how long to wait for the others (a silent audio track must not block). */
const TRACK_WAIT_MS = 3000;
/** Frames and bytes kept from probing, handed out at start. */
const MAX_EARLY_FRAMES = 512;
const MAX_EARLY_BYTES = 32 * 1024 * 1024;
const VIDEO_CLOCK = 90000;

interface EarlyFrame {
  key: number | string;
  frame: Frame;
}

/**
 * Internal to {@link openByteStream}. Demuxes one container into frames keyed by track (`pid` for MPEG-TS, `video`/`audio` for FLV,
 * `jpeg` for MJPEG). Collects frames in `out` until receivers are bound.
 */
export class ContainerDemux {
  readonly format: ByteStreamFormat;
  readonly #ts: TsDemuxer | undefined;
  readonly #flv: FlvDemuxer | undefined;
  readonly #multipart: MultipartParser | undefined;
  readonly #jpeg: JpegSplitter | undefined;
  readonly #adts: AdtsSplitter | undefined;
  readonly #annexb: AnnexbSplitter | undefined;
  #aac: Codec | undefined;
  #aacTime = 0;
  readonly #t0 = performance.now();
  /** Frames to hand out; when `#receivers` is set, frames go straight to them instead. */
  early: EarlyFrame[] = [];
  earlyBytes = 0;
  #receivers: Map<number | string, Receiver> | undefined;
  #firstReady = 0;
  images = 0;

  constructor(format: ByteStreamFormat) {
    this.format = format;
    if (format === "mpegts") this.#ts = new TsDemuxer();
    else if (format === "flv") this.#flv = new FlvDemuxer();
    else if (format === "multipart") this.#multipart = new MultipartParser();
    else if (format === "adts") this.#adts = new AdtsSplitter((f) => this.#aacFrame(f));
    else if (format === "h264" || format === "h265") {
      // No timestamps in the stream: arrival time, as for MJPEG.
      this.#annexb = new AnnexbSplitter(format === "h264" ? "H264" : "H265", (au) =>
        this.#emit("video", {
          timestamp: Math.round((performance.now() - this.#t0) * (VIDEO_CLOCK / 1000)),
          keyframe: au.keyframe,
          data: au.data,
        }));
    } else this.#jpeg = new JpegSplitter((jpeg) => this.#image(jpeg));
  }

  get errors(): number {
    return this.#ts?.errors ?? this.#flv?.errors ?? this.#multipart?.errors ?? this.#adts?.errors ??
      this.#annexb?.errors ?? 0;
  }

  bind(receivers: Map<number | string, Receiver>): void {
    this.#receivers = receivers;
  }

  #emit(key: number | string, frame: Frame): void {
    const receivers = this.#receivers;
    if (receivers) {
      receivers.get(key)?.push(frame);
      return;
    }
    if (this.early.length >= MAX_EARLY_FRAMES || this.earlyBytes + frame.data.length > MAX_EARLY_BYTES) {
      return;
    }
    this.early.push({ key, frame });
    this.earlyBytes += frame.data.length;
  }

  #image(jpeg: Uint8Array): void {
    this.images++;
    this.#emit("jpeg", {
      timestamp: Math.round((performance.now() - this.#t0) * (VIDEO_CLOCK / 1000)),
      keyframe: true,
      data: jpeg,
    });
  }

  #aacFrame(f: AdtsFrame): void {
    if (!this.#aac) {
      const h = f.header;
      this.#aac = {
        name: "MPEG4-GENERIC",
        clockRate: h.sampleRate,
        channels: h.channelConfiguration === 7 ? 8 : h.channelConfiguration || 2,
        fmtp: buildAacFmtp(adtsToAudioSpecificConfig(h)),
      };
    }
    // ADTS carries no timestamps: count samples (1024 per AAC frame).
    this.#emit("aac", { timestamp: this.#aacTime, keyframe: true, data: f.data });
    this.#aacTime += 1024;
  }

  push(chunk: Uint8Array): void {
    if (this.#ts) {
      const frames = this.#ts.push(chunk);
      for (let i = 0; i < frames.length; i++) this.#emit(frames[i].track.pid, frames[i].frame);
    } else if (this.#flv) {
      const frames = this.#flv.push(chunk);
      for (let i = 0; i < frames.length; i++) this.#emit(frames[i].track.kind, frames[i].frame);
    } else if (this.#multipart) {
      const parts = this.#multipart.push(chunk);
      for (let i = 0; i < parts.length; i++) {
        const body = parts[i].body;
        // Only JPEG parts: cameras sometimes interleave text parts (motion events).
        if (body.length > 2 && body[0] === 0xff && body[1] === 0xd8) this.#image(body);
      }
    } else if (this.#adts) {
      this.#adts.push(chunk);
    } else if (this.#annexb) {
      this.#annexb.push(chunk);
    } else {
      this.#jpeg!.push(chunk);
    }
  }

  flush(): void {
    if (this.#ts) {
      const frames = this.#ts.flush();
      for (let i = 0; i < frames.length; i++) this.#emit(frames[i].track.pid, frames[i].frame);
    } else if (this.#multipart) {
      for (const part of this.#multipart.flush()) {
        if (part.body[0] === 0xff && part.body[1] === 0xd8) this.#image(part.body);
      }
    } else if (this.#annexb) {
      this.#annexb.flush();
    }
  }

  /** Whether the tracks are known well enough to describe the medias. */
  ready(now: number): boolean {
    const tracks = this.#ts?.tracks ?? this.#flv?.tracks;
    if (this.#adts) return this.#aac !== undefined;
    if (this.#annexb) return this.#annexb.codec !== undefined && this.#annexb.units > 0;
    if (!tracks) return this.images > 0;
    if (this.#ts ? this.#ts.ready : this.#flv!.ready) return true;
    if (!tracks.some((t) => t.ready)) return false;
    this.#firstReady ||= now;
    return now - this.#firstReady > TRACK_WAIT_MS;
  }

  /** What a probe that gave up found, for its error message. */
  describeTracks(): string {
    const tracks = this.#ts?.tracks ?? this.#flv?.tracks;
    if (this.#adts) return `${this.#adts.frames} AAC frames`;
    if (this.#annexb) {
      return `${this.#annexb.units} access units${this.#annexb.codec ? "" : ", no parameter sets yet"}`;
    }
    if (!tracks) return `${this.images} images`;
    if (!tracks.length) return "no tracks";
    return tracks.map((t) => `${t.kind} ${t.codec.name}${t.ready ? "" : " (no codec config yet)"}`).join(
      ", ",
    );
  }

  /** Medias and their receiver keys (complete tracks only). */
  medias(): { media: Media; key: number | string }[] {
    if (this.#ts) {
      return this.#ts.tracks.filter((t) => t.ready).map((t) => ({
        key: t.pid,
        media: { kind: t.kind, direction: "recvonly", id: `pid=${t.pid}`, codecs: [{ ...t.codec }] },
      }));
    }
    if (this.#flv) {
      return this.#flv.tracks.filter((t) => t.ready).map((t) => ({
        key: t.kind,
        media: { kind: t.kind, direction: "recvonly", id: t.kind, codecs: [{ ...t.codec }] },
      }));
    }
    if (this.#annexb?.codec) {
      return [{
        key: "video",
        media: { kind: "video", direction: "recvonly", id: "video", codecs: [{ ...this.#annexb.codec }] },
      }];
    }
    if (this.#aac) {
      return [{
        key: "aac",
        media: { kind: "audio", direction: "recvonly", id: "audio", codecs: [{ ...this.#aac }] },
      }];
    }
    return [{
      key: "jpeg",
      media: {
        kind: "video",
        direction: "recvonly",
        id: "video",
        codecs: [{ name: "JPEG", clockRate: VIDEO_CLOCK, payloadType: 26 }],
      },
    }];
  }
}


type ReadResult = ReadableStreamReadResult<Uint8Array> | "timeout" | "aborted";

/**
 * Reads a byte stream until its format and tracks are known and returns it as a producer.
 *
 * @throws {SourceError} when the body is not a supported format (naming its Content-Type and first
 *   bytes), ends or stalls before its tracks are complete, or the probe is aborted. The connection
 *   is released (`close`) on every failure.
 * @example
 * ```ts
 * const res = await fetch("http://127.0.0.1:8080/live.flv");
 * const producer = await openByteStream(res.body!, {
 *   url: res.url, contentType: res.headers.get("content-type") ?? "", kind: "http", protocol: "http",
 * });
 * producer.medias(); // [video H264, audio MPEG4-GENERIC]
 * ```
 */
export async function openByteStream(
  readable: ReadableStream<Uint8Array>,
  options: ByteStreamOptions,
): Promise<ByteStreamProducer> {
  const reader = readable.getReader();
  const probeMs = options.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  let closed = false;
  const release = () => {
    if (closed) return;
    closed = true;
    reader.cancel().catch(() => {});
    try {
      options.close?.();
    } catch { /* already closed */ }
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const timeout = new Promise<"timeout">((
    resolve,
  ) => (timer = setTimeout(() => resolve("timeout"), probeMs)));
  const aborted = new Promise<"aborted">((resolve) => {
    onAbort = () => resolve("aborted");
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener("abort", onAbort, { once: true });
  });
  let head: Uint8Array = new Uint8Array(0);
  let total = 0;
  const read = async (): Promise<ReadResult> => {
    try {
      return await Promise.race([reader.read(), timeout, aborted]);
    } catch (error) {
      throw new SourceError(
        options.url,
        `connection failed while reading the first bytes: ${errorText(error)}`,
        {
          cause: error,
        },
      );
    }
  };
  try {
    let format: ByteStreamFormat | undefined = options.format;
    let ended = false;
    while (!format) {
      const next = await read();
      if (next === "timeout" || next === "aborted") {
        throw new SourceError(
          options.url,
          next === "aborted"
            ? "dial aborted"
            : `no media within ${probeMs} ms (${describeBody(options.contentType, head)}, ${total} bytes)`,
          { cause: options.signal?.reason },
        );
      }
      if (next.done) ended = true;
      else {
        head = head.length ? concatBytes([head, next.value]) : next.value;
        total += next.value.length;
      }
      const found = detectStreamFormat(options.contentType, head, { ended });
      if (found === "more" && !ended) continue;
      const allowed = options.formats ?? ["multipart", "mjpeg", "flv", "mpegts", "adts", "h264", "h265"];
      const asStream = found === "jpeg" ? "mjpeg" : found;
      if (found === "more" || found === undefined || !allowed.includes(asStream as ByteStreamFormat)) {
        const what = found === "more" || found === undefined
          ? "not a media stream"
          : `the body is ${STREAM_FORMAT_LABEL[found]}`;
        throw new SourceError(
          options.url,
          `${what} (${describeBody(options.contentType, head)}). Expected ${
            options.formats
              ? options.formats.map((f) => STREAM_FORMAT_LABEL[f]).join(" or ")
              : STREAM_FORMAT_NAMES
          }.${
            /html/i.test(options.contentType ?? "")
              ? " The URL serves a web page: point it at the camera's stream URL."
              : ""
          }`,
        );
      }
      format = asStream as ByteStreamFormat;
    }
    const demux = new ContainerDemux(format);
    if (head.length) demux.push(head);
    while (!demux.ready(performance.now())) {
      const next = await read();
      if (next === "aborted") {
        throw new SourceError(options.url, "dial aborted", { cause: options.signal?.reason });
      }
      if (next === "timeout" || next.done) {
        throw new SourceError(
          options.url,
          `${format} stream ${
            next === "timeout"
              ? `without complete tracks after ${probeMs} ms`
              : "ended before its tracks were complete"
          } ` +
            `(found ${demux.describeTracks()}; ${total} bytes, ${demux.errors} parse errors). ` +
            `Check that the source really sends ${format}.`,
        );
      }
      total += next.value.length;
      demux.push(next.value);
    }
    const medias = demux.medias();
    if (!medias.length) {
      throw new SourceError(
        options.url,
        `${format} stream has no supported track (${demux.describeTracks()})`,
      );
    }
    reader.releaseLock();
    return new ByteStreamProducer(readable, demux, medias, total, options);
  } catch (error) {
    release();
    throw error;
  } finally {
    clearTimeout(timer);
    if (onAbort) options.signal?.removeEventListener("abort", onAbort);
  }
}

/**
 * A running byte-stream source: MJPEG, FLV or MPEG-TS over HTTP, TCP or an upload. Created by
 * {@link openByteStream}. Receivers exist for every media from the start, so a publisher's GOP cache
 * fills before the first viewer arrives.
 *
 * @example
 * ```ts
 * const producer = await openByteStream(conn.readable, { url: "tcp://10.0.0.9:1234", kind: "tcp", protocol: "tcp" });
 * await stream.addPublisher(producer); // or return it from a source factory
 * await producer.start(); // until the bytes end
 * ```
 */
export class ByteStreamProducer implements Producer {
  readonly #id = nextConnectionId();
  readonly #readable: ReadableStream<Uint8Array>;
  readonly #demux: ContainerDemux;
  readonly #options: ByteStreamOptions;
  readonly #log: Logger;
  readonly #medias: Media[];
  readonly #receivers = new Map<number | string, Receiver>();
  readonly #byMedia = new Map<Media, Receiver>();
  readonly #startedAt = new Date().toISOString();
  #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;
  #closed = false;
  #bytes: number;
  #lastChunk = performance.now();

  /** Use {@link openByteStream}. */
  constructor(
    readable: ReadableStream<Uint8Array>,
    demux: ContainerDemux,
    medias: { media: Media; key: number | string }[],
    bytes: number,
    options: ByteStreamOptions,
  ) {
    this.#readable = readable;
    this.#demux = demux;
    this.#options = options;
    this.#bytes = bytes;
    this.#log = (options.log ?? silentLogger).child({ source: options.kind });
    this.#medias = medias.map((m) => m.media);
    for (const { media, key } of medias) {
      const receiver = new Receiver(media, media.codecs[0]);
      this.#receivers.set(key, receiver);
      this.#byMedia.set(media, receiver);
    }
  }

  /** The container format read. */
  get format(): ByteStreamFormat {
    return this.#demux.format;
  }

  /** Bytes read so far. */
  get bytesIn(): number {
    return this.#bytes;
  }

  medias(): Media[] {
    return this.#medias;
  }

  track(media: Media, codec: Codec): Receiver {
    const own = this.#medias.find((m) => m === media || (media.id !== undefined && m.id === media.id)) ??
      this.#medias.find((m) => m.kind === media.kind && m.codecs.some((c) => c.name === codec.name));
    if (!own) {
      throw new RangeError(
        `The ${this.#demux.format} source has no ${media.kind} ${codec.name} track; it has ${
          this.#medias.map(mediaToString).join("; ")
        }`,
      );
    }
    return this.#byMedia.get(own)!;
  }

  /**
   * Reads and demuxes until the body ends (resolves), the producer is stopped (resolves), or the
   * connection fails or stalls past `idleTimeoutMs` (rejects with a {@link SourceError}).
   */
  start(): Promise<void> {
    this.#running ??= this.#run();
    return this.#running;
  }

  /** Stops reading and releases the connection. Idempotent. */
  stop(): Promise<void> {
    this.#stopped = true;
    this.#close();
    return Promise.resolve();
  }

  info(): ConnectionInfo {
    return {
      id: this.#id,
      format: `${this.#options.kind}/${this.#demux.format}`,
      protocol: this.#options.protocol,
      url: redactUrl(this.#options.url),
      remoteAddr: this.#options.remoteAddr,
      userAgent: this.#options.userAgent,
      medias: this.#medias.map(mediaToString),
      bytesIn: this.#bytes,
      startedAt: this.#startedAt,
    };
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    (this.#reader ?? this.#readable).cancel().catch(() => {});
    try {
      this.#options.close?.();
    } catch { /* already closed */ }
  }

  async #run(): Promise<void> {
    if (this.#stopped) return;
    const demux = this.#demux;
    demux.bind(this.#receivers);
    const early = demux.early;
    demux.early = [];
    for (const { key, frame } of early) this.#receivers.get(key)?.push(frame);
    const reader = this.#readable.getReader();
    this.#reader = reader;
    const idleMs = this.#options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    let stalled = false;
    const watchdog = idleMs > 0
      ? setInterval(() => {
        if (performance.now() - this.#lastChunk > idleMs) {
          stalled = true;
          this.#close();
        }
      }, Math.min(idleMs / 2, 2000))
      : undefined;
    let failure: unknown;
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        this.#lastChunk = performance.now();
        this.#bytes += value.length;
        demux.push(value);
      }
    } catch (error) {
      failure = error;
    } finally {
      clearInterval(watchdog);
    }
    if (this.#stopped) return;
    if (stalled) {
      throw new SourceError(this.#options.url, `no data for ${idleMs} ms: the source stalled`);
    }
    demux.flush();
    this.#close();
    if (failure !== undefined) {
      throw new SourceError(this.#options.url, `connection lost: ${errorText(failure)}`, { cause: failure });
    }
    this.#log.debug("source ended", { url: redactUrl(this.#options.url), bytes: this.#bytes });
  }
}
