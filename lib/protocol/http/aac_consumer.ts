/**
 * ADTS output for `/api/stream.aac`: the stream's AAC audio, each access unit behind an ADTS header.
 *
 * @module
 */
import type { Frame } from "../../core/frame.ts";
import type { Media } from "../../core/media.ts";
import { AdtsMuxer } from "../../format/adts/adts_muxer.ts";
import type { ChunkSink } from "./chunk_sink.ts";
import { OutputConsumer, type OutputPeer } from "./output_consumer.ts";

/** The only media `/api/stream.aac` asks for: AAC audio. */
export const AAC_MEDIAS: readonly Media[] = [
  { kind: "audio", direction: "sendonly", codecs: [{ name: "MPEG4-GENERIC", clockRate: 0 }] },
];

/**
 * A listener that receives raw AAC in ADTS frames.
 *
 * @example
 * ```ts
 * const aac = new AacConsumer(body);
 * await stream.addConsumer(aac); // CodecMismatchError when the stream has no AAC
 * aac.start();
 * ```
 */
export class AacConsumer extends OutputConsumer {
  readonly #sink: ChunkSink;
  #mux: AdtsMuxer | undefined;

  constructor(sink: ChunkSink, peer?: OutputPeer) {
    super("adts", [...AAC_MEDIAS], peer);
    this.#sink = sink;
  }

  protected open(): void {
    this.#mux = new AdtsMuxer(this.tracks[0].codec);
  }

  protected writeFrame(_index: number, frame: Frame): void | Promise<void> {
    const bytes = this.#mux!.push(frame);
    if (!bytes) return;
    this.bytesOut += bytes.byteLength;
    return this.#sink.write(bytes);
  }
}
