/**
 * Frames to RTMP: a player of strom's RTMP server (`ffplay rtmp://host/<stream>`), or strom
 * publishing a stream to another RTMP server (the sink side of the RTMP client).
 *
 * The FLV muxer builds the tag bodies (sequence headers, enhanced-RTMP `hvc1` for H.265); each tag
 * becomes one RTMP message. Like every output, one bounded sender per track: when the peer reads
 * slower than the stream, the socket buffer fills to `maxBufferedBytes`, the handler waits, the
 * sender's queue drops (video until the next keyframe), and the camera and other viewers go on.
 *
 * @module
 */
import type { Codec } from "../../core/codec.ts";
import type { Frame } from "../../core/frame.ts";
import type { Media } from "../../core/media.ts";
import { encodeAmf0 } from "../../format/flv/amf0.ts";
import { flvCanMux, FlvMuxer } from "../../format/flv/flv_muxer.ts";
import { FLV_TAG_HEADER_SIZE, FlvTagType } from "../../format/flv/flv_tag.ts";
import { OutputConsumer, type OutputPeer } from "../http/output_consumer.ts";
import type { OutputCodecs } from "../http/output_medias.ts";
import { Csid, type RtmpConnection } from "./connection.ts";
import { type RtmpMessage, RtmpMessageType } from "./messages.ts";

/** What RTMP carries: H.264, H.265 (enhanced RTMP), AAC, G.711. */
export const RTMP_CODECS: OutputCodecs = {
  video: ["H264", "H265"],
  audio: ["MPEG4-GENERIC", "PCMA", "PCMU"],
};

/** Options of {@link RtmpConsumer}. */
export interface RtmpConsumerOptions {
  /** The message stream id media goes on (from createStream). */
  streamId: number;
  /** Publishing to a server: metadata goes as `@setDataFrame`. Default false (playing to a client). */
  publish?: boolean;
  /** Bytes the socket may hold before frames wait (and then drop). Default 4 MiB. */
  maxBufferedBytes?: number;
  peer?: OutputPeer;
}

const SET_DATA_FRAME = encodeAmf0(["@setDataFrame"]);
/** Audio frames held for the next video frame's write, at most. */
const MAX_HELD_AUDIO = 4;

/**
 * Frames of a stream as RTMP messages on one connection.
 *
 * @example
 * ```ts
 * const consumer = new RtmpConsumer(medias, rtmp, { streamId: 1 });
 * await stream.addConsumer(consumer);
 * consumer.start(stream.name);
 * ```
 */
export class RtmpConsumer extends OutputConsumer {
  readonly #rtmp: RtmpConnection;
  readonly #options: RtmpConsumerOptions;
  readonly #maxBuffered: number;
  #mux: FlvMuxer | undefined;
  #hasVideo = false;
  /** Messages muxed and not written yet (audio waiting for the next video frame). */
  readonly #held: RtmpMessage[] = [];

  constructor(medias: Media[], rtmp: RtmpConnection, options: RtmpConsumerOptions) {
    super(options.publish ? "rtmp/publish" : "rtmp", medias, { protocol: "rtmp", ...options.peer });
    this.#rtmp = rtmp;
    this.#options = options;
    this.#maxBuffered = options.maxBufferedBytes ?? 4 * 1024 * 1024;
  }

  protected override accepts(codec: Codec): boolean {
    return flvCanMux(codec);
  }

  protected open(): void {
    // Shared time base: a player starting from the cached GOP gets video from the (older) keyframe
    // and audio from now; on one clock they stay in step.
    this.#mux = new FlvMuxer(this.tracks.map((t) => ({ codec: t.codec })), { fileHeader: false, timeBase: "shared" });
    this.#hasVideo = this.tracks.some((t) => t.media.kind === "video");
  }

  protected writeFrame(index: number, frame: Frame): void | Promise<void> {
    const bytes = this.#mux!.push(index, frame);
    if (!bytes) return;
    const rtmp = this.#rtmp;
    if (rtmp.closed) {
      this.fail(new Error(`RTMP connection to ${rtmp.peer} closed`));
      return;
    }
    // Walk the tags in place: each body becomes one message.
    const out = this.#held;
    let audioOnly = true;
    let p = 0;
    while (p + FLV_TAG_HEADER_SIZE <= bytes.length) {
      const type = bytes[p] & 0x1f;
      const size = (bytes[p + 1] << 16) | (bytes[p + 2] << 8) | bytes[p + 3];
      const ts = ((bytes[p + 7] << 24) | (bytes[p + 4] << 16) | (bytes[p + 5] << 8) | bytes[p + 6]) >>> 0;
      let body = bytes.subarray(p + FLV_TAG_HEADER_SIZE, p + FLV_TAG_HEADER_SIZE + size);
      p += FLV_TAG_HEADER_SIZE + size + 4;
      let csid: number = Csid.VIDEO;
      if (type === FlvTagType.AUDIO) csid = Csid.AUDIO;
      else if (type === FlvTagType.SCRIPT) {
        csid = Csid.DATA;
        if (this.#options.publish) {
          const wrapped = new Uint8Array(SET_DATA_FRAME.length + body.length);
          wrapped.set(SET_DATA_FRAME);
          wrapped.set(body, SET_DATA_FRAME.length);
          body = wrapped;
        }
      }
      if (type !== FlvTagType.AUDIO) audioOnly = false;
      const msgType = type === FlvTagType.SCRIPT ? RtmpMessageType.DATA_AMF0 : type;
      out.push({ csid, type: msgType, streamId: this.#options.streamId, timestamp: ts, payload: body });
      this.bytesOut += body.length;
    }
    // Socket writes, not bytes, are what a fan-out pays for. With video in the stream, audio
    // frames (about 47 a second for AAC at 48 kHz) wait for the next video frame (at most 40 ms at
    // 25 fps, and at most MAX_HELD_AUDIO frames) and go out in the same write.
    if (audioOnly && this.#hasVideo && out.length < MAX_HELD_AUDIO) return;
    if (out.length === 1) rtmp.send(out[0]);
    else rtmp.sendAll(out);
    out.length = 0;
    if (rtmp.conn.bufferedAmount > this.#maxBuffered) return rtmp.conn.drained().catch(() => {});
  }
}
