/**
 * FLV output for `/api/stream.flv`: FLV header, `onMetaData`, sequence headers, one tag per frame.
 *
 * @module
 */
import type { Codec } from "../../core/codec.ts";
import type { Frame } from "../../core/frame.ts";
import type { Media } from "../../core/media.ts";
import { flvCanMux, FlvMuxer } from "../../format/flv/flv_muxer.ts";
import type { ChunkSink } from "./chunk_sink.ts";
import { OutputConsumer, type OutputPeer } from "./output_consumer.ts";

/**
 * A viewer that receives FLV.
 *
 * @example
 * ```ts
 * const flv = new FlvConsumer(flvMedias(query), body);
 * await stream.addConsumer(flv);
 * flv.start();
 * ```
 */
export class FlvConsumer extends OutputConsumer {
  readonly #sink: ChunkSink;
  #mux: FlvMuxer | undefined;

  constructor(medias: Media[], sink: ChunkSink, peer?: OutputPeer) {
    super("flv", medias, peer);
    this.#sink = sink;
  }

  protected override accepts(codec: Codec): boolean {
    return flvCanMux(codec);
  }

  protected open(): void {
    this.#mux = new FlvMuxer(this.tracks.map((t) => ({ codec: t.codec })));
  }

  protected writeFrame(index: number, frame: Frame): void | Promise<void> {
    const bytes = this.#mux!.push(index, frame);
    if (!bytes) return;
    this.bytesOut += bytes.byteLength;
    return this.#sink.write(bytes);
  }
}
