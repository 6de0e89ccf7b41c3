/**
 * MPEG-TS output for `/api/stream.ts`: PAT/PMT, then one PES per frame from the first video
 * keyframe.
 *
 * @module
 */
import { accessUnitDelimiter } from "../../codec/annexb/access_unit_delimiter.ts";
import { concatBytes } from "../../core/bytes.ts";
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
    let bytes = this.#mux!.push(index, frame);
    if (!bytes) return;
    const sender = this.tracks[index].sender;
    if (sender.receiver?.sourceDown && sender.queued === 0) bytes = this.#endHeld(index, frame, bytes);
    this.bytesOut += bytes.byteLength;
    return this.#sink.write(bytes);
  }

  // The last frame of a source that is down (held; the end of the GOP a viewer started from): nothing
  // follows it, and ffmpeg's H.264/H.265 parsers finish a frame only when the next access unit
  // starts, so a player would show nothing of a GOP that is one keyframe. As in the RTSP output, an
  // access unit delimiter starts the next one; two here, because ffmpeg's MPEG-TS demuxer passes a
  // video PES on (without a length, as all of ours) only when the next PES of its PID starts.
  #endHeld(index: number, frame: Frame, bytes: Uint8Array): Uint8Array {
    const data = accessUnitDelimiter(this.tracks[index].codec.name);
    if (!data) return bytes;
    const parts = [bytes];
    for (let i = 1; i <= 2; i++) {
      const aud = this.#mux!.push(index, { timestamp: frame.timestamp + i, keyframe: false, data });
      if (aud) parts.push(aud);
    }
    return parts.length > 1 ? concatBytes(parts) : bytes;
  }
}
