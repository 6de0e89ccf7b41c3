/**
 * Opus made on demand for WebRTC viewers of a stream whose audio is only AAC: one
 * {@link OpusFeed} per stream, the single consumer of the stream's AAC, runs one ffmpeg
 * {@link OpusTranscoder} and pushes its Opus packets to one {@link Receiver} that every WebRTC
 * viewer of the stream reads (each through its own bounded Sender, as from a camera).
 *
 * {@link OpusFeeds.join} opens the feed with the first viewer that needs it and hands out a
 * {@link OpusLease}; the feed closes (ffmpeg killed) `lingerMs` after the last lease was released,
 * so a viewer that reloads the page reuses it. A feed whose ffmpeg fails while viewers hold it is
 * opened again (at most {@link MAX_FEED_RESTARTS} times within 30 s of each other) and their audio senders move onto
 * the new one; their video never depends on it. `/api/streams` lists the feed as one consumer
 * (`opus-transcoder`) with its `viewers` and ffmpeg's `pid`.
 *
 * @module
 */
import type { Codec } from "../../core/codec.ts";
import type { ConnectionInfo } from "../../core/connection.ts";
import { CodecMismatchError } from "../../core/errors.ts";
import { Receiver } from "../../core/fanout.ts";
import type { Frame } from "../../core/frame.ts";
import { type Logger, silentLogger } from "../../core/log.ts";
import type { Media } from "../../core/media.ts";
import type { Stream } from "../../core/stream.ts";
import { OutputConsumer } from "../http/output_consumer.ts";
import { OutputSession } from "../http/output_session.ts";
import { OpusTranscoder, opusTranscoderTakes, WEBRTC_OPUS } from "./opus_transcoder.ts";

/** What the feed reads from a stream: its AAC audio. */
const AAC_MEDIAS: readonly Media[] = Object.freeze([
  { kind: "audio", direction: "sendonly", codecs: [{ name: "MPEG4-GENERIC", clockRate: 0 }] },
]);

/** A failed feed with viewers is opened again at most this many times in a row. */
export const MAX_FEED_RESTARTS = 3;

/** A feed that ran this long before failing is not counted as failing in a row. */
const RESTART_WINDOW_MS = 30_000;

const OPUS_MEDIA: Media = { kind: "audio", direction: "recvonly", codecs: [WEBRTC_OPUS], id: "opus" };

/** What `/api/streams` lists for a feed. */
export interface OpusFeedInfo extends ConnectionInfo {
  /** WebRTC viewers reading this feed's Opus. */
  viewers: number;
  /** ffmpeg's process id while it runs. */
  pid?: number;
  /** ffmpeg's delay, AAC in to Opus out (ms). */
  latencyMs?: number;
}

/**
 * The one consumer of a stream's AAC behind every WebRTC viewer that needs Opus.
 *
 * @example
 * ```ts
 * const feed = new OpusFeed({ ffmpegBin: "ffmpeg" });
 * const session = new OutputSession(stream, feed);
 * await session.open();
 * feed.output.addSender(viewerSender); // Opus frames
 * ```
 */
export class OpusFeed extends OutputConsumer {
  /** The Opus frames, 48 kHz stereo. */
  readonly output = new Receiver(OPUS_MEDIA, WEBRTC_OPUS);
  /** Leases held now. */
  viewers = 0;
  readonly #bin: string | undefined;
  readonly #log: Logger;
  #transcoder: OpusTranscoder | undefined;

  constructor(options: { ffmpegBin?: string; log?: Logger } = {}) {
    super("opus-transcoder", AAC_MEDIAS.map((m) => ({ ...m, codecs: [...m.codecs] })), { protocol: "ffmpeg" }, {
      capacity: 64,
    });
    // Only live audio: old AAC replayed from a cache would come out as a burst nobody hears.
    this.useGopCache = false;
    this.#bin = options.ffmpegBin;
    this.#log = options.log ?? silentLogger;
  }

  /** The AAC codec read (after the feed opened). */
  get sourceCodec(): Codec | undefined {
    return this.tracks[0]?.codec;
  }

  /** ffmpeg's delay, AAC in to Opus out, in 48 kHz ticks (0 before the first packet). */
  latencyTicks(): number {
    return Math.round((this.#transcoder?.latencyMs ?? 0) * 48);
  }

  /** Resolves when ffmpeg has exited (at once when none ran). */
  exited(): Promise<unknown> {
    return this.#transcoder?.exited ?? Promise.resolve();
  }

  override info(): OpusFeedInfo {
    const t = this.#transcoder;
    return {
      ...super.info(),
      viewers: this.viewers,
      pid: t?.pid,
      latencyMs: t ? Math.round(t.latencyMs) : undefined,
    };
  }

  protected override accepts(codec: Codec): boolean {
    return opusTranscoderTakes(codec) && this.tracks.length === 0;
  }

  protected open(): void {
    this.#transcoder = new OpusTranscoder({
      codec: this.tracks[0].codec,
      ffmpegBin: this.#bin,
      log: this.#log,
      onFrame: (frame: Frame) => {
        this.bytesOut += frame.data.length;
        this.output.push(frame);
      },
      onExit: (reason) => this.fail(new Error(`AAC to Opus transcoding stopped: ${reason}`)),
    });
  }

  protected writeFrame(_index: number, frame: Frame): void | Promise<void> {
    return this.#transcoder?.write(frame);
  }

  // The viewers' senders on `output` are theirs: they close them when they leave, or move them
  // onto a new feed after a failure.
  protected override close(): void {
    this.#transcoder?.close();
  }
}

/** One viewer's use of a feed. */
export interface OpusLease {
  readonly codec: Codec;
  /** The Opus frames. */
  readonly receiver: Receiver;
  /** ffmpeg's delay in the codec's clock (for the WebRTC sender reports). */
  latencyTicks(): number;
  /** Gives the lease back (idempotent); the feed closes a linger after the last. */
  release(): void;
}

/** Options of {@link OpusFeeds}. */
export interface OpusFeedsOptions {
  /** The ffmpeg binary, read at each new feed (the config file's `ffmpeg.bin`). Default `ffmpeg`. */
  ffmpegBin?: string | (() => string);
  /** Keep a feed this long after its last viewer left. Default 2000 ms. */
  lingerMs?: number;
  log?: Logger;
}

interface FeedEntry {
  stream: Stream;
  feed: OpusFeed;
  output: OutputSession;
  opening: Promise<void>;
  linger: ReturnType<typeof setTimeout> | undefined;
  /** Leases on this feed (moved to the next feed after a failure). */
  leases: Set<LeaseRef>;
  /** Restarts in a row before this feed. */
  restarts: number;
  /** When it was opened (`performance.now()`). */
  openedAt: number;
}

/** Where a lease points: its feed, which changes when a failed one is replaced. */
interface LeaseRef {
  entry: FeedEntry;
}

/**
 * The Opus feeds of a server, one per stream, opened by the first viewer that needs one.
 *
 * @example
 * ```ts
 * const feeds = new OpusFeeds({ ffmpegBin: () => config.ffmpeg.bin });
 * const lease = await feeds.join(stream); // undefined: the stream has no AAC
 * viewer.addTrack(media, lease.codec, lease.receiver);
 * lease.release();
 * ```
 */
export class OpusFeeds {
  readonly lingerMs: number;
  readonly #options: OpusFeedsOptions;
  readonly #log: Logger;
  readonly #feeds = new Map<Stream, FeedEntry>();
  #closed = false;

  constructor(options: OpusFeedsOptions = {}) {
    this.#options = options;
    this.lingerMs = Math.max(0, options.lingerMs ?? 2000);
    this.#log = options.log ?? silentLogger;
  }

  /** Feeds open now. */
  get size(): number {
    return this.#feeds.size;
  }

  /** The feed of a stream, if one is open. */
  feedOf(stream: Stream): OpusFeed | undefined {
    return this.#feeds.get(stream)?.feed;
  }

  /**
   * A lease on the Opus of `stream`, opening its feed if needed; undefined when the stream has no
   * AAC to make it from.
   *
   * @throws {SourceError} no source of the stream could be reached.
   */
  async join(stream: Stream): Promise<OpusLease | undefined> {
    if (this.#closed) return undefined;
    let entry = this.#entryFor(stream);
    try {
      await entry.opening;
    } catch (error) {
      if (error instanceof CodecMismatchError) return undefined;
      throw error;
    }
    if (entry.output.closed) {
      // Ended while opening (ffmpeg failed at once): one more try with a new feed.
      entry = this.#entryFor(stream);
      try {
        await entry.opening;
      } catch {
        return undefined;
      }
      if (entry.output.closed) return undefined;
    }
    const e = entry;
    if (e.linger !== undefined) {
      clearTimeout(e.linger);
      e.linger = undefined;
    }
    const ref: LeaseRef = { entry: e };
    e.leases.add(ref);
    e.feed.viewers = e.leases.size;
    this.#log.debug("opus feed joined", { stream: stream.name, viewers: e.feed.viewers });
    let released = false;
    return {
      codec: WEBRTC_OPUS,
      receiver: e.feed.output,
      latencyTicks: () => ref.entry.feed.latencyTicks(),
      release: () => {
        if (released) return;
        released = true;
        const now = ref.entry;
        now.leases.delete(ref);
        now.feed.viewers = now.leases.size;
        this.#log.debug("opus feed left", { stream: stream.name, viewers: now.feed.viewers });
        if (now.leases.size === 0) this.#scheduleClose(now);
      },
    };
  }

  /** Closes every feed. */
  async close(): Promise<void> {
    this.#closed = true;
    const entries = [...this.#feeds.values()];
    this.#feeds.clear();
    for (const e of entries) if (e.linger !== undefined) clearTimeout(e.linger);
    await Promise.allSettled(entries.map((e) => e.output.close("server closing")));
  }

  #entryFor(stream: Stream, restarts = 0): FeedEntry {
    const existing = this.#feeds.get(stream);
    if (existing && !existing.output.closed) return existing;
    const bin = this.#options.ffmpegBin;
    const feed = new OpusFeed({ ffmpegBin: typeof bin === "function" ? bin() : bin, log: this.#log });
    const entry: FeedEntry = {
      stream,
      feed,
      output: undefined as unknown as OutputSession,
      opening: Promise.resolve(),
      linger: undefined,
      leases: new Set(),
      restarts,
      openedAt: performance.now(),
    };
    entry.output = new OutputSession(stream, feed, {
      log: this.#log,
      onClose: (reason) => {
        if (entry.linger !== undefined) clearTimeout(entry.linger);
        entry.linger = undefined;
        if (this.#feeds.get(stream) === entry) this.#feeds.delete(stream);
        this.#log.debug("opus feed closed", { stream: stream.name, reason });
        if (entry.leases.size > 0) this.#restart(entry, reason);
      },
    });
    this.#feeds.set(stream, entry);
    entry.opening = entry.output.open().catch((error) => {
      if (this.#feeds.get(stream) === entry) this.#feeds.delete(stream);
      throw error;
    });
    entry.opening.catch(() => {});
    // Nobody joined after all (every opener failed or left): close after the linger.
    entry.opening.then(() => {
      if (entry.feed.viewers === 0) this.#scheduleClose(entry);
    }, () => {});
    return entry;
  }

  // A feed failed under its viewers: a new one takes their leases and their audio senders.
  #restart(old: FeedEntry, reason: string): void {
    if (this.#closed) return;
    // A feed that ran a while before failing starts a new count.
    const restarts = performance.now() - old.openedAt > RESTART_WINDOW_MS ? 0 : old.restarts;
    if (restarts >= MAX_FEED_RESTARTS) {
      this.#log.warn("AAC to Opus transcoding gave up; WebRTC viewers keep the video without sound", {
        stream: old.stream.name,
        reason,
        restarts,
      });
      return;
    }
    const next = this.#entryFor(old.stream, restarts + 1);
    next.opening.then(() => {
      if (next.output.closed) return;
      for (const ref of old.leases) {
        ref.entry = next;
        next.leases.add(ref);
      }
      old.leases.clear();
      next.feed.viewers = next.leases.size;
      old.feed.output.replace(next.feed.output);
      if (next.linger !== undefined && next.leases.size > 0) {
        clearTimeout(next.linger);
        next.linger = undefined;
      }
      this.#log.info("AAC to Opus transcoder restarted", { stream: old.stream.name, reason, viewers: next.leases.size });
    }, () => {});
  }

  #scheduleClose(entry: FeedEntry): void {
    if (entry.linger !== undefined || entry.output.closed) return;
    entry.linger = setTimeout(() => {
      entry.linger = undefined;
      if (entry.feed.viewers <= 0) void entry.output.close("no viewers");
    }, this.lingerMs);
  }
}
