/**
 * Fragmented MP4 output: `/api/stream.mp4` (progressive over HTTP) and MSE over `/api/ws`. Writes
 * the init segment (`ftyp`+`moov`) and then one `moof`+`mdat` fragment per frame, from the first
 * video keyframe (the stream's GOP cache makes that the first frame a new viewer gets).
 *
 * @module
 */
import type { Codec } from "../../core/codec.ts";
import type { Frame } from "../../core/frame.ts";
import type { Media } from "../../core/media.ts";
import { Mp4Muxer } from "../../format/mp4/mp4_muxer.ts";
import { mp4CanMux } from "../../format/mp4/mp4_track.ts";
import type { ChunkSink } from "./chunk_sink.ts";
import { OutputConsumer, type OutputPeer } from "./output_consumer.ts";

/** Options of an {@link Mp4Consumer}. */
export interface Mp4ConsumerOptions {
  /** What the viewer accepts (see `mp4Medias` / `parseMseCodecs`). */
  medias: Media[];
  sink: ChunkSink;
  /** `mp4/fmp4` (default) for HTTP, `mse/fmp4` for MSE. */
  format?: string;
  peer?: OutputPeer;
  /** Display rotation of the video track (clockwise degrees), as go2rtc's `rotate=`. */
  rotate?: 0 | 90 | 180 | 270;
  /**
   * Called once, right before the first init segment is written, with the MIME type for
   * `MediaSource.addSourceBuffer` (`video/mp4; codecs="avc1.42c01e,mp4a.40.2"`).
   */
  onMimeType?: (mime: string) => void;
}

/**
 * A viewer that receives fragmented MP4.
 *
 * @example
 * ```ts
 * const body = new HttpBody();
 * const mp4 = new Mp4Consumer({ medias: mp4Medias(url.searchParams), sink: body });
 * await stream.addConsumer(mp4);
 * mp4.start();
 * return new Response(body.readable, { headers: { "Content-Type": mp4.contentType() } });
 * ```
 */
export class Mp4Consumer extends OutputConsumer {
  readonly #sink: ChunkSink;
  readonly #rotate: 0 | 90 | 180 | 270;
  #onMimeType: ((mime: string) => void) | undefined;
  #mux: Mp4Muxer | undefined;

  constructor(options: Mp4ConsumerOptions) {
    super(options.format ?? "mp4/fmp4", options.medias, options.peer);
    this.#sink = options.sink;
    this.#rotate = options.rotate ?? 0;
    this.#onMimeType = options.onMimeType;
  }

  protected override accepts(codec: Codec): boolean {
    return mp4CanMux(codec);
  }

  protected open(): void {
    this.#mux = new Mp4Muxer(this.tracks.map((t) => ({ codec: t.codec, rotate: t.media.kind === "video" ? this.#rotate : 0 })));
  }

  /**
   * The HTTP `Content-Type`: with codecs once they are known from the fmtp (after {@link start}),
   * else plain `video/mp4` / `audio/mp4`.
   */
  contentType(): string {
    const mux = this.#mux;
    if (mux?.ready) return mux.mimeType();
    return this.tracks.some((t) => t.media.kind === "video") ? "video/mp4" : "audio/mp4";
  }

  /** The muxer's codecs list (`avc1.42c01e,mp4a.40.2`), empty until known. */
  mimeCodecs(): string {
    return this.#mux?.ready ? this.#mux.mimeCodecs() : "";
  }

  protected writeFrame(index: number, frame: Frame): void | Promise<void> {
    const mux = this.#mux!;
    const fragment = mux.push(index, frame);
    if (!fragment) return;
    if (mux.needsInit) {
      const mime = mux.mimeType();
      const init = mux.init();
      const fn = this.#onMimeType;
      this.#onMimeType = undefined;
      fn?.(mime);
      this.bytesOut += init.byteLength;
      void this.#sink.write(init); // followed at once by the fragment, whose wait covers both
    }
    this.bytesOut += fragment.byteLength;
    return this.#sink.write(fragment);
  }
}
