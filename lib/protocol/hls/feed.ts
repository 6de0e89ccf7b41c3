/**
 * One stream muxed once into one HLS container (MPEG-TS, or fMP4 with an init segment) and cut into
 * segments kept in memory: the single consumer on the stream behind every HLS session that asked
 * for the same stream, container and codecs. Memory and muxing grow with streams, not with viewers.
 *
 * @module
 */
import type { Codec } from "../../core/codec.ts";
import type { ConnectionInfo } from "../../core/connection.ts";
import type { Frame } from "../../core/frame.ts";
import type { Media } from "../../core/media.ts";
import { Mp4Muxer } from "../../format/mp4/mp4_muxer.ts";
import { mp4CanMux } from "../../format/mp4/mp4_track.ts";
import { tsCanMux, TsMuxer } from "../../format/mpegts/ts_muxer.ts";
import { OutputConsumer } from "../http/output_consumer.ts";
import { HlsSegmenter, type HlsSegmenterOptions } from "./segmenter.ts";

/** Segment container of a feed (and of the sessions reading it). */
export type HlsFormat = "mpegts" | "fmp4";

/** Options of an {@link HlsFeed}. */
export interface HlsFeedOptions {
  format: HlsFormat;
  medias: Media[];
  segmenter?: HlsSegmenterOptions;
}

/** What `/api/streams` lists for a feed: a consumer info plus how many sessions read it. */
export interface HlsFeedInfo extends ConnectionInfo {
  /** HLS sessions (viewers) served from this one muxer and segment list. */
  viewers: number;
}

// A jump in timestamps longer than this is a discontinuity (new source), not elapsed time.
const MAX_STEP_SECONDS = 10;

/**
 * The shared muxer and segment list of one (stream, container, codecs).
 *
 * @example
 * ```ts
 * const feed = new HlsFeed({ format: "mpegts", medias });
 * await stream.addConsumer(feed);
 * feed.start();
 * await feed.segmenter.waitFor(2, 10_000); // three segments made
 * ```
 */
export class HlsFeed extends OutputConsumer {
  readonly format: HlsFormat;
  readonly segmenter: HlsSegmenter;
  /** Sessions reading this feed now (kept by the session store, shown in {@link info}). */
  viewers = 0;
  #ts: TsMuxer | undefined;
  #mp4: Mp4Muxer | undefined;
  #init: Uint8Array | undefined;
  #timing = 0;
  #timingVideo = false;
  #clock = 90000;
  #lastTs = 0;
  #time = 0;
  #hasTime = false;

  constructor(options: HlsFeedOptions) {
    super(options.format === "fmp4" ? "hls-segmenter/fmp4" : "hls-segmenter/mpegts", options.medias, {
      protocol: "hls",
    });
    this.format = options.format;
    this.segmenter = new HlsSegmenter(options.segmenter);
  }

  /** fMP4: the init segment, once known. */
  get initSegment(): Uint8Array | undefined {
    return this.#init;
  }

  /** RFC 6381 codecs list for `CODECS=` (fMP4 only; empty when unknown). */
  codecs(): string {
    return this.#mp4?.ready ? this.#mp4.mimeCodecs() : "";
  }

  /** fMP4 init segment; waits up to `waitMs` for the first keyframe. */
  async init(waitMs: number): Promise<Uint8Array | undefined> {
    if (!this.#init && this.format === "fmp4") await this.segmenter.waitFor(0, waitMs);
    return this.#init;
  }

  override info(): HlsFeedInfo {
    return { ...super.info(), viewers: this.viewers };
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
}
