/**
 * One HLS viewer: a consumer that muxes the stream (MPEG-TS, or fMP4 with an init segment) and cuts
 * it into segments kept in memory until the player fetches them.
 *
 * @module
 */
import type { Codec } from "../../core/codec.ts";
import type { Frame } from "../../core/frame.ts";
import type { Media } from "../../core/media.ts";
import { Mp4Muxer } from "../../format/mp4/mp4_muxer.ts";
import { mp4CanMux } from "../../format/mp4/mp4_track.ts";
import { tsCanMux, TsMuxer } from "../../format/mpegts/ts_muxer.ts";
import { OutputConsumer, type OutputPeer } from "../http/output_consumer.ts";
import { mediaPlaylist } from "./playlist.ts";
import { HlsSegmenter, type HlsSegmenterOptions, LIVE_PLAYLIST_MIN_SEGMENTS } from "./segmenter.ts";

/** Segment container of a session. */
export type HlsFormat = "mpegts" | "fmp4";

/** Options of an {@link HlsSession}. */
export interface HlsSessionOptions {
  /** The session id used in URLs (`?id=`). */
  id: string;
  format: HlsFormat;
  medias: Media[];
  peer?: OutputPeer;
  segmenter?: HlsSegmenterOptions;
}

// A jump in timestamps longer than this is a discontinuity (new source), not elapsed time.
const MAX_STEP_SECONDS = 10;

/**
 * An HLS session's consumer and segment store.
 *
 * @example
 * ```ts
 * const s = new HlsSession({ id: "k3j9x0", format: "mpegts", medias });
 * await stream.addConsumer(s);
 * s.start();
 * const text = await s.playlist(10_000); // waits for the first three segments
 * ```
 */
export class HlsSession extends OutputConsumer {
  readonly sessionId: string;
  readonly format: HlsFormat;
  readonly segmenter: HlsSegmenter;
  /** Last request for this session (ms since epoch); the store expires idle sessions. */
  lastSeen = Date.now();
  #ts: TsMuxer | undefined;
  #mp4: Mp4Muxer | undefined;
  #init: Uint8Array | undefined;
  #timing = 0;
  #timingVideo = false;
  #clock = 90000;
  #lastTs = 0;
  #time = 0;
  #hasTime = false;

  constructor(options: HlsSessionOptions) {
    super(options.format === "fmp4" ? "hls/fmp4" : "hls/mpegts", options.medias, options.peer);
    this.sessionId = options.id;
    this.format = options.format;
    this.segmenter = new HlsSegmenter(options.segmenter);
  }

  /** Marks the session as in use now. */
  touch(): void {
    this.lastSeen = Date.now();
  }

  /** fMP4: the init segment, once known. */
  get initSegment(): Uint8Array | undefined {
    return this.#init;
  }

  /** RFC 6381 codecs list for `CODECS=` (fMP4 only; empty when unknown). */
  codecs(): string {
    return this.#mp4?.ready ? this.#mp4.mimeCodecs() : "";
  }

  protected override accepts(codec: Codec): boolean {
    return this.format === "fmp4" ? mp4CanMux(codec) : tsCanMux(codec);
  }

  protected open(): void {
    const video = this.tracks.findIndex((t) => t.media.kind === "video");
    this.#timing = video >= 0 ? video : 0;
    this.#timingVideo = video >= 0;
    this.#clock = this.tracks[this.#timing].codec.clockRate || 90000;
    const specs = this.tracks.map((t) => ({ codec: t.codec }));
    if (this.format === "fmp4") this.#mp4 = new Mp4Muxer(specs);
    else this.#ts = new TsMuxer(specs);
  }

  protected writeFrame(index: number, frame: Frame): void {
    if (index === this.#timing) {
      if (!this.#hasTime) {
        this.#hasTime = true;
      } else {
        const step = ((frame.timestamp - this.#lastTs) >>> 0) / this.#clock;
        if (step < MAX_STEP_SECONDS) this.#time += step;
      }
      this.#lastTs = frame.timestamp;
      this.segmenter.frame(this.#time, this.#timingVideo ? frame.keyframe : true);
    }
    let bytes: Uint8Array | undefined;
    if (this.#ts) {
      bytes = this.#ts.push(index, frame);
    } else {
      const mux = this.#mp4!;
      bytes = mux.push(index, frame);
      if (bytes && mux.needsInit) this.#init = mux.init();
    }
    if (!bytes) return;
    this.bytesOut += bytes.byteLength;
    this.segmenter.append(bytes);
  }

  protected override close(): void {
    this.segmenter.close();
  }

  /**
   * The media playlist. The first one waits up to `waitMs` until it can list
   * {@link LIVE_PLAYLIST_MIN_SEGMENTS} segments (a shorter live playlist makes Chromium's native HLS
   * fail, see there); past `waitMs` it lists what there is. Undefined when the session ended or not
   * one segment came in time.
   */
  async playlist(waitMs: number): Promise<string | undefined> {
    const seg = this.segmenter;
    await seg.waitFor(LIVE_PLAYLIST_MIN_SEGMENTS - 1, waitMs);
    if (seg.closed || seg.segments.length === 0) return undefined;
    const id = encodeURIComponent(this.sessionId);
    const ext = this.format === "fmp4" ? "m4s" : "ts";
    return mediaPlaylist({
      segments: this.segmenter.segments,
      segmentUri: (n) => `segment.${ext}?id=${id}&n=${n}`,
      initUri: this.format === "fmp4" ? `init.mp4?id=${id}` : undefined,
      minTargetDuration: Math.ceil(this.segmenter.targetDuration),
    });
  }

  /**
   * Segment `n`; waits up to `waitMs` when it is the one being written. Undefined when it was
   * evicted, is too far ahead, or the session ended.
   */
  async segment(n: number, waitMs: number): Promise<Uint8Array | undefined> {
    const seg = this.segmenter;
    if (n >= seg.nextSequence && n <= seg.nextSequence + 1) await seg.waitFor(n, waitMs);
    return seg.get(n)?.data;
  }

  /** fMP4 init segment; waits up to `waitMs` for the first keyframe. */
  async init(waitMs: number): Promise<Uint8Array | undefined> {
    if (!this.#init && this.format === "fmp4") await this.segmenter.waitFor(0, waitMs);
    return this.#init;
  }
}
