/**
 * One HLS viewer: an id for its URLs (`?id=`), a keepalive, and the playlists and segments it is
 * served, all read from the {@link HlsFeed} it shares with every other viewer of the same stream,
 * container and codecs. A session holds no media of its own.
 *
 * @module
 */
import { type ConnectionInfo, nextConnectionId } from "../../core/connection.ts";
import type { OutputPeer } from "../http/output_consumer.ts";
import type { HlsFeed, HlsFormat } from "./feed.ts";
import { mediaPlaylist } from "./playlist.ts";
import { type HlsSegmenter, LIVE_PLAYLIST_MIN_SEGMENTS } from "./segmenter.ts";

export type { HlsFormat } from "./feed.ts";

/** Options of an {@link HlsSession}. */
export interface HlsSessionOptions {
  /** The session id used in URLs (`?id=`). */
  id: string;
  /** The shared muxer and segment list this session reads. */
  feed: HlsFeed;
  peer?: OutputPeer;
}

/**
 * An HLS session: per-viewer URLs over a shared feed.
 *
 * @example
 * ```ts
 * const s = new HlsSession({ id: "k3j9x0", feed });
 * const text = await s.playlist(10_000); // waits for the feed's first three segments
 * const seg = await s.segment(4, 10_000);
 * ```
 */
export class HlsSession {
  /** Connection id in `/api/streams`. */
  readonly id: number = nextConnectionId();
  readonly sessionId: string;
  readonly feed: HlsFeed;
  /** Last request for this session (ms since epoch); the store expires idle sessions. */
  lastSeen = Date.now();
  /** Bytes of segments and init segments served to this session. */
  bytesOut = 0;
  /** Requests of this session waiting for a segment now; the store does not expire a session that has some. */
  waiting = 0;
  readonly #peer: OutputPeer;
  readonly #startedAt = new Date().toISOString();

  constructor(options: HlsSessionOptions) {
    this.sessionId = options.id;
    this.feed = options.feed;
    this.#peer = options.peer ?? {};
  }

  /** Segment container. */
  get format(): HlsFormat {
    return this.feed.format;
  }

  /** The feed's segment list (shared with the other sessions of the feed). */
  get segmenter(): HlsSegmenter {
    return this.feed.segmenter;
  }

  /** fMP4: the init segment, once known. */
  get initSegment(): Uint8Array | undefined {
    return this.feed.initSegment;
  }

  /** Marks the session as in use now. */
  touch(): void {
    this.lastSeen = Date.now();
  }

  /** RFC 6381 codecs list for `CODECS=` (fMP4 only; empty when unknown). */
  codecs(): string {
    return this.feed.codecs();
  }

  /**
   * The media playlist. While the feed has made fewer than {@link LIVE_PLAYLIST_MIN_SEGMENTS}
   * segments it waits up to `waitMs` for them (a shorter live playlist makes Chromium's native HLS
   * fail, see there); past `waitMs` it lists what there is. Undefined when the feed ended or not one
   * segment came in time. `query` (e.g. `&token=...`) is appended to every URI in it.
   */
  async playlist(waitMs: number, query = ""): Promise<string | undefined> {
    const seg = this.feed.segmenter;
    await this.#wait(LIVE_PLAYLIST_MIN_SEGMENTS - 1, waitMs);
    if (seg.closed || seg.segments.length === 0) return undefined;
    const id = encodeURIComponent(this.sessionId);
    const fmp4 = this.format === "fmp4";
    return mediaPlaylist({
      segments: seg.segments,
      segmentUri: fmp4 ? (n) => `segment.m4s?id=${id}&n=${n}${query}` : (n) => `segment.ts?id=${id}&n=${n}${query}`,
      initUri: fmp4 ? `init.mp4?id=${id}${query}` : undefined,
      minTargetDuration: Math.ceil(seg.targetDuration),
    });
  }

  /**
   * Segment `n`; waits up to `waitMs` when it is the one being written or the next. Undefined when it
   * was evicted, is too far ahead, or the feed ended.
   */
  async segment(n: number, waitMs: number): Promise<Uint8Array | undefined> {
    const seg = this.feed.segmenter;
    if (n >= seg.nextSequence && n <= seg.nextSequence + 1) await this.#wait(n, waitMs);
    const data = seg.get(n)?.data;
    if (data) this.bytesOut += data.byteLength;
    return data;
  }

  /** fMP4 init segment; waits up to `waitMs` for the first keyframe. */
  async init(waitMs: number): Promise<Uint8Array | undefined> {
    this.waiting++;
    try {
      const data = await this.feed.init(waitMs);
      if (data) this.bytesOut += data.byteLength;
      return data;
    } finally {
      this.waiting--;
      this.touch();
    }
  }

  // A request waiting for the feed keeps the session alive, and counts as used when it is answered.
  async #wait(sequence: number, waitMs: number): Promise<void> {
    if (this.feed.segmenter.nextSequence > sequence) return;
    this.waiting++;
    try {
      await this.feed.segmenter.waitFor(sequence, waitMs);
    } finally {
      this.waiting--;
      this.touch();
    }
  }

  /** What `/api/streams` lists for this viewer; `feed` is the id of the consumer it reads from. */
  info(): ConnectionInfo & { feed: number } {
    return {
      id: this.id,
      format: this.format === "fmp4" ? "hls/fmp4" : "hls/mpegts",
      protocol: this.#peer.protocol,
      remoteAddr: this.#peer.remoteAddr,
      userAgent: this.#peer.userAgent,
      medias: this.feed.info().medias,
      bytesOut: this.bytesOut,
      startedAt: this.#startedAt,
      feed: this.feed.id,
    };
  }
}
