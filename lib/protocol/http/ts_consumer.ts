/**
 * MPEG-TS output for `/api/stream.ts`: PAT/PMT, then one PES per frame from the first video
 * keyframe.
 *
 * @module
 */
import type { Codec } from "../../core/codec.ts";
import type { Frame } from "../../core/frame.ts";
import type { Media } from "../../core/media.ts";
import { tsCanMux, TsMuxer } from "../../format/mpegts/ts_muxer.ts";
import type { ChunkSink } from "./chunk_sink.ts";
import { OutputConsumer, type OutputPeer } from "./output_consumer.ts";

/**
 * A viewer that receives MPEG-TS.
 *
 * @example
 * ```ts
 * const ts = new TsConsumer(tsMedias(query), body);
 * await stream.addConsumer(ts);
 * ts.start();
 * ```
 */
export class TsConsumer extends OutputConsumer {
  readonly #sink: ChunkSink;
  #mux: TsMuxer | undefined;

  constructor(medias: Media[], sink: ChunkSink, peer?: OutputPeer) {
    super("mpegts", medias, peer);
    this.#sink = sink;
  }

  protected override accepts(codec: Codec): boolean {
    return tsCanMux(codec);
  }

  protected open(): void {
    this.#mux = new TsMuxer(this.tracks.map((t) => ({ codec: t.codec })));
  }

  protected writeFrame(index: number, frame: Frame): void | Promise<void> {
    const bytes = this.#mux!.push(index, frame);
    if (!bytes) return;
    this.bytesOut += bytes.byteLength;
    return this.#sink.write(bytes);
  }
}
