/**
 * MJPEG shared by viewers: every viewer of the same stream with the same picture options reads one
 * {@link MjpegFeed}, the single consumer on the stream. For H.264/H.265 that is one ffmpeg
 * transcoder whatever the number of viewers; for a JPEG camera the camera's JPEGs are fanned out.
 * Each JPEG (and its multipart part) is built once and handed to every viewer. `/api/streams` lists
 * the feed as one consumer (`mjpeg-transcoder` or `mjpeg-fanout`) with `viewers` and, in `clients`,
 * one entry per viewer.
 *
 * A slow viewer never stalls the others: each viewer holds at most one write in flight beyond its
 * own sink's buffer, and the JPEGs that come while it is busy are dropped for that viewer only.
 * A feed closes `lingerMs` after its last viewer left (ffmpeg killed, timers cleared).
 *
 * @module
 */
import type { Codec } from "../../core/codec.ts";
import { type ConnectionInfo, nextConnectionId } from "../../core/connection.ts";
import type { Frame } from "../../core/frame.ts";
import { type Logger, silentLogger } from "../../core/log.ts";
import type { Stream } from "../../core/stream.ts";
import { MultipartWriter } from "../../format/mjpeg/multipart_writer.ts";
import { MJPEG_MEDIAS } from "../http/mjpeg_consumer.ts";
import { OutputConsumer, type OutputPeer } from "../http/output_consumer.ts";
import { OutputSession } from "../http/output_session.ts";
import type { JpegPictureOptions } from "./ffmpeg_args.ts";
import { MjpegTranscoder } from "./transcoder.ts";

/** Where one viewer's JPEGs go. A returned promise means "busy": JPEGs are dropped until it settles. */
export interface MjpegViewerSink {
  /** `multipart`: receives `multipart/x-mixed-replace` parts; `jpeg` (default): bare JPEGs. */
  kind?: "multipart" | "jpeg";
  write(bytes: Uint8Array): void | Promise<void>;
  /** Listed in `/api/streams` for this viewer: `mjpeg` (default), `ws/mjpeg`. */
  format?: string;
  peer?: OutputPeer;
  /** Runs once when the viewer ended (left, feed failed, stream deleted). */
  onClose?: (reason: string) => void;
}

/** Options of an {@link MjpegFeed}. */
export interface MjpegFeedOptions extends JpegPictureOptions {
  /** The ffmpeg binary. Default `ffmpeg`. */
  ffmpegBin?: string;
  log?: Logger;
}

/** What `/api/streams` lists for a feed: a consumer info plus how many viewers read it. */
export interface MjpegFeedInfo extends ConnectionInfo {
  /** MJPEG viewers served from this one transcoder (or JPEG fan-out). */
  viewers: number;
  /** JPEGs not sent to a viewer because it was still busy with an earlier one (all viewers). */
  viewerDrops: number;
  /** Each viewer: its address, format (`mjpeg`, `ws/mjpeg`), bytes and drops. */
  clients: ConnectionInfo[];
}

const CARRIED = new Set(["JPEG", "H264", "H265"]);

/**
 * One viewer of an {@link MjpegFeed}.
 *
 * @example
 * ```ts
 * const viewer = await feeds.join(stream, { width: 320 }, { kind: "multipart", write: (b) => body.write(b) });
 * viewer.close("client went away");
 * ```
 */
export class MjpegViewer {
  readonly id: number = nextConnectionId();
  /** JPEGs dropped for this viewer because it was busy. */
  drops = 0;
  /** JPEGs handed to this viewer. */
  sent = 0;
  bytesOut = 0;
  readonly sink: MjpegViewerSink;
  readonly #startedAt = new Date().toISOString();
  #busy = false;
  #closed = false;
  #leave: ((viewer: MjpegViewer) => void) | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #release = () => {
    this.#busy = false;
  };
  readonly #failed = () => {
    this.#busy = false;
    void this.close("write failed");
  };

  constructor(sink: MjpegViewerSink, leave: (viewer: MjpegViewer) => void) {
    this.sink = sink;
    this.#leave = leave;
  }

  /** This viewer in its feed's `clients` in `/api/streams`: its peer, bytes and drops. */
  info(): ConnectionInfo {
    const peer = this.sink.peer ?? {};
    return {
      id: this.id,
      format: this.sink.format ?? "mjpeg",
      protocol: peer.protocol,
      remoteAddr: peer.remoteAddr,
      userAgent: peer.userAgent,
      bytesOut: this.bytesOut,
      drops: this.drops,
      startedAt: this.#startedAt,
    };
  }

  /** Whether the viewer ended. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Ends the viewer after `ms` (go2rtc's `duration=`). */
  closeAfter(ms: number): void {
    if (this.#closed || !(ms > 0)) return;
    this.#timer = setTimeout(() => void this.close("duration reached"), ms);
  }

  /** Hands one part to the sink unless it is still busy. @internal */
  deliver(bytes: Uint8Array): void {
    if (this.#closed) return;
    if (this.#busy) {
      this.drops++;
      return;
    }
    this.sent++;
    this.bytesOut += bytes.byteLength;
    let wait: void | Promise<void>;
    try {
      wait = this.sink.write(bytes);
    } catch {
      void this.close("write failed");
      return;
    }
    if (wait) {
      this.#busy = true;
      wait.then(this.#release, this.#failed);
    }
  }

  /** Leaves the feed and runs the sink's `onClose`. Idempotent. */
  close(reason = "closed"): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    const leave = this.#leave;
    this.#leave = undefined;
    leave?.(this);
    try {
      this.sink.onClose?.(reason);
    } catch { /* the sink's own failure is not the feed's */ }
    return Promise.resolve();
  }
}

/**
 * The one consumer of a stream behind every MJPEG viewer with the same picture options.
 *
 * @example
 * ```ts
 * const feed = new MjpegFeed({ width: 640 });
 * await stream.addConsumer(feed);
 * feed.start();
 * feed.add(new MjpegViewer({ write: (jpeg) => ws.send(jpeg) }, (v) => feed.remove(v)));
 * ```
 */
export class MjpegFeed extends OutputConsumer {
  /** JPEGs produced (transcoded or passed through). */
  images = 0;
  readonly #options: MjpegFeedOptions;
  readonly #viewers = new Set<MjpegViewer>();
  readonly #multipart = new MultipartWriter();
  #transcoder: MjpegTranscoder | undefined;
  #viewerDrops = 0;

  constructor(options: MjpegFeedOptions = {}) {
    super("mjpeg-transcoder", MJPEG_MEDIAS.map((m) => ({ ...m, codecs: [...m.codecs] })), { protocol: "mjpeg" }, {
      capacity: 32,
    });
    this.#options = options;
  }

  /** `Content-Type` of the multipart parts viewers receive. */
  get contentType(): string {
    return this.#multipart.contentType;
  }

  /** The codec read from the stream (after {@link start}): JPEG passes through, H264/H265 are transcoded. */
  get sourceCodec(): Codec | undefined {
    return this.tracks[0]?.codec;
  }

  /** Viewers reading now. */
  get viewers(): number {
    return this.#viewers.size;
  }

  /** Adds a viewer; it gets every JPEG from the next one on. */
  add(viewer: MjpegViewer): void {
    this.#viewers.add(viewer);
  }

  /** Removes a viewer (does not close the feed; {@link MjpegFeeds} does that after a linger). */
  remove(viewer: MjpegViewer): void {
    if (this.#viewers.delete(viewer)) this.#viewerDrops += viewer.drops;
  }

  override info(): MjpegFeedInfo {
    let drops = this.#viewerDrops;
    const clients: ConnectionInfo[] = [];
    for (const v of this.#viewers) {
      drops += v.drops;
      clients.push(v.info());
    }
    const base = super.info();
    return {
      ...base,
      format: this.sourceCodec && this.sourceCodec.name.toUpperCase() === "JPEG" ? "mjpeg-fanout" : base.format,
      viewers: this.#viewers.size,
      viewerDrops: drops,
      clients,
    };
  }

  protected override accepts(codec: Codec): boolean {
    return CARRIED.has(codec.name.toUpperCase()) && this.tracks.length === 0;
  }

  protected open(): void {
    const codec = this.tracks[0].codec;
    if (codec.name.toUpperCase() === "JPEG") return;
    const o = this.#options;
    this.#transcoder = new MjpegTranscoder({
      codec,
      width: o.width,
      height: o.height,
      rotate: o.rotate,
      quality: o.quality,
      ffmpegBin: o.ffmpegBin,
      log: o.log,
      onJpeg: (jpeg) => this.#fanOut(jpeg),
      onExit: (error) => this.fail(error),
    });
  }

  protected writeFrame(_index: number, frame: Frame): void | Promise<void> {
    if (this.#transcoder) return this.#transcoder.write(frame);
    this.#fanOut(frame.data);
  }

  protected override close(): void {
    this.#transcoder?.close();
    this.#transcoder = undefined;
    const viewers = [...this.#viewers];
    this.#viewers.clear();
    for (const v of viewers) void v.close("feed closed");
  }

  // Never waits: the transcoder keeps its pace, busy viewers drop.
  #fanOut(jpeg: Uint8Array): void {
    this.images++;
    this.bytesOut += jpeg.byteLength;
    let part: Uint8Array | undefined;
    for (const v of this.#viewers) {
      if (v.sink.kind === "multipart") v.deliver(part ??= this.#multipart.push(jpeg));
      else v.deliver(jpeg);
    }
  }
}

/** Options of {@link MjpegFeeds}. */
export interface MjpegFeedsOptions {
  /** Keep a feed this long after its last viewer left (a returning viewer reuses it). Default 2000 ms. */
  lingerMs?: number;
  log?: Logger;
}

interface FeedEntry {
  key: string;
  stream: Stream;
  feed: MjpegFeed;
  output: OutputSession;
  opening: Promise<void>;
  linger: ReturnType<typeof setTimeout> | undefined;
}

function pictureKey(streamName: string, o: MjpegFeedOptions): string {
  return `${streamName}|${o.width ?? ""}|${o.height ?? ""}|${o.rotate ?? 0}|${o.quality ?? ""}|${o.ffmpegBin ?? ""}`;
}

/**
 * The MJPEG feeds of a server, one per (stream, picture options), created with the first viewer
 * and closed a short time after the last.
 *
 * @example
 * ```ts
 * const feeds = new MjpegFeeds({ lingerMs: 2000 });
 * const viewer = await feeds.join(stream, { width: 320, ffmpegBin: "ffmpeg" }, {
 *   kind: "multipart",
 *   write: (part) => body.write(part),
 *   onClose: () => body.close(),
 * });
 * body.onCancel = () => viewer.close("client went away");
 * ```
 */
export class MjpegFeeds {
  readonly lingerMs: number;
  readonly #log: Logger;
  readonly #feeds = new Map<string, FeedEntry>();
  #closed = false;

  constructor(options: MjpegFeedsOptions = {}) {
    this.lingerMs = Math.max(0, options.lingerMs ?? 2000);
    this.#log = options.log ?? silentLogger;
  }

  /** Feeds open now (transcoders or JPEG fan-outs). */
  get size(): number {
    return this.#feeds.size;
  }

  /**
   * Adds a viewer to the feed of `stream` with these picture options, opening it if needed.
   *
   * @throws {CodecMismatchError} / {SourceError} from the stream, {JpegEncodeError} `FfmpegMissing`.
   */
  async join(stream: Stream, options: MjpegFeedOptions, sink: MjpegViewerSink): Promise<MjpegViewer> {
    if (this.#closed) throw new Error("MJPEG: the server is shutting down; retry on another instance.");
    const entry = this.#feedFor(stream, options);
    await entry.opening;
    if (entry.output.closed) {
      throw new Error(`MJPEG: the stream "${stream.name}" closed while the viewer was being added; retry.`);
    }
    if (entry.linger !== undefined) {
      clearTimeout(entry.linger);
      entry.linger = undefined;
    }
    const viewer = new MjpegViewer(sink, (v) => this.#left(entry, v));
    entry.feed.add(viewer);
    this.#log.debug("mjpeg viewer joined", { stream: stream.name, viewers: entry.feed.viewers });
    return viewer;
  }

  /** Closes every feed and its viewers. */
  async close(): Promise<void> {
    this.#closed = true;
    const entries = [...this.#feeds.values()];
    this.#feeds.clear();
    await Promise.allSettled(entries.map((e) => this.#closeFeed(e, "server closing")));
  }

  #feedFor(stream: Stream, options: MjpegFeedOptions): FeedEntry {
    const key = pictureKey(stream.name, options);
    const existing = this.#feeds.get(key);
    if (existing && existing.stream === stream && !existing.output.closed) return existing;
    const feed = new MjpegFeed({ ...options, log: options.log ?? this.#log });
    const entry: FeedEntry = {
      key,
      stream,
      feed,
      output: undefined as unknown as OutputSession,
      opening: Promise.resolve(),
      linger: undefined,
    };
    entry.output = new OutputSession(stream, feed, {
      log: this.#log,
      onClose: (reason) => {
        if (entry.linger !== undefined) clearTimeout(entry.linger);
        entry.linger = undefined;
        if (this.#feeds.get(key) === entry) this.#feeds.delete(key);
        this.#log.debug("mjpeg feed closed", { stream: stream.name, reason });
      },
    });
    this.#feeds.set(key, entry);
    entry.opening = entry.output.open().catch((error) => {
      if (this.#feeds.get(key) === entry) this.#feeds.delete(key);
      throw error;
    });
    entry.opening.catch(() => {});
    // No viewer joined (every opener failed or left): close after the linger all the same.
    entry.opening.then(() => {
      if (entry.feed.viewers === 0) this.#scheduleClose(entry);
    }, () => {});
    return entry;
  }

  #left(entry: FeedEntry, viewer: MjpegViewer): void {
    entry.feed.remove(viewer);
    this.#log.debug("mjpeg viewer left", { stream: entry.stream.name, viewers: entry.feed.viewers });
    if (entry.feed.viewers === 0) this.#scheduleClose(entry);
  }

  #scheduleClose(entry: FeedEntry): void {
    if (entry.linger !== undefined || entry.output.closed) return;
    entry.linger = setTimeout(() => {
      entry.linger = undefined;
      if (entry.feed.viewers === 0) void this.#closeFeed(entry, "no viewers");
    }, this.lingerMs);
  }

  #closeFeed(entry: FeedEntry, reason: string): Promise<void> {
    if (entry.linger !== undefined) {
      clearTimeout(entry.linger);
      entry.linger = undefined;
    }
    return entry.output.close(reason);
  }
}
