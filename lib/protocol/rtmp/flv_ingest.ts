/**
 * RTMP media messages to strom receivers, shared by the RTMP client (play) and the server's
 * publishers: the FLV demuxer parses audio/video/data message bodies; once every announced track
 * has its sequence header, medias and receivers exist and frames flow.
 *
 * Frames that arrive before that (a keyframe right after the video sequence header, before the
 * audio one) are kept, bounded, and replayed, so the GOP cache starts complete.
 *
 * A publisher that sends a new video sequence header mid-stream (a phone app rotating, an encoder
 * changing resolution) keeps its receivers; the new parameter sets go in-band, in front of the
 * next keyframe, where every output (RTSP, MP4, FLV, HLS) and decoder picks them up.
 *
 * @module
 */
import type { Codec } from "../../core/codec.ts";
import type { Media } from "../../core/media.ts";
import { Receiver } from "../../core/fanout.ts";
import { type FlvDemuxedFrame, FlvDemuxer, type FlvTrack } from "../../format/flv/flv_demuxer.ts";
import { FLV_TAG_HEADER_SIZE } from "../../format/flv/flv_tag.ts";
import { parseAvcDecoderConfig } from "../../format/mp4/avc_decoder_config.ts";
import { parseHevcDecoderConfig } from "../../format/mp4/hevc_decoder_config.ts";
import { RtmpMessageType } from "./messages.ts";

const MAX_EARLY_FRAMES = 300;
const MAX_EARLY_BYTES = 16 * 1024 * 1024;

/**
 * FLV-in-RTMP ingest.
 *
 * @example
 * ```ts
 * const ingest = new FlvIngest();
 * ingest.onReady = () => stream.addPublisher(publisher);
 * rtmp.onMessage = (msg) => ingest.push(msg.type, msg.timestamp, msg.payload);
 * ```
 */
export class FlvIngest {
  readonly demuxer = new FlvDemuxer({ fileHeader: false });
  /** Medias once {@link ready} (directions from our side: recvonly). */
  readonly medias: Media[] = [];
  /** Called once when the medias are known. */
  onReady: (() => void) | undefined;
  /** Frames dropped while waiting for the tracks (over the early bound) or for tracks that came late. */
  dropped = 0;
  #ready = false;
  readonly #receivers = new Map<FlvTrack, Receiver>();
  #early: FlvDemuxedFrame[] = [];
  #earlyBytes = 0;
  /** New parameter sets (AVCC) to put in front of the next keyframe. */
  #inband: Uint8Array | undefined;

  /** Whether the medias are known. */
  get ready(): boolean {
    return this.#ready;
  }

  /** Whether some track has its codec (so {@link finish} would give medias). */
  get hasTrack(): boolean {
    return this.demuxer.tracks.some((t) => t.ready);
  }

  /** Feeds one RTMP message (audio 8, video 9, data 18, aggregate 22); other types are ignored. */
  push(type: number, timestamp: number, payload: Uint8Array): void {
    if (type === RtmpMessageType.AGGREGATE) {
      this.#aggregate(timestamp, payload);
      return;
    }
    if (type !== RtmpMessageType.AUDIO && type !== RtmpMessageType.VIDEO && type !== RtmpMessageType.DATA_AMF0) return;
    const videoCodec = this.demuxer.video?.codec;
    const frames = this.demuxer.pushTag(type, timestamp, payload);
    if (this.#ready && type === RtmpMessageType.VIDEO && this.demuxer.video && this.demuxer.video.codec !== videoCodec) {
      this.#inband = parameterSetsOf(payload, this.demuxer.video.codec.name);
    }
    if (!this.#ready) {
      for (const f of frames) {
        if (this.#early.length >= MAX_EARLY_FRAMES || this.#earlyBytes + f.frame.data.length > MAX_EARLY_BYTES) {
          this.dropped++;
          continue;
        }
        this.#early.push(f);
        this.#earlyBytes += f.frame.data.length;
      }
      if (this.demuxer.ready) this.finish();
      return;
    }
    for (let i = 0; i < frames.length; i++) {
      const r = this.#receivers.get(frames[i].track);
      if (!r) {
        this.dropped++;
        continue;
      }
      const frame = frames[i].frame;
      if (this.#inband && frame.keyframe && frames[i].track.kind === "video") {
        const data = new Uint8Array(this.#inband.length + frame.data.length);
        data.set(this.#inband);
        data.set(frame.data, this.#inband.length);
        frame.data = data;
        this.#inband = undefined;
      }
      r.push(frame);
    }
  }

  // Aggregate message (type 22): FLV tags back to back; their timestamps are relative to the first.
  #aggregate(timestamp: number, body: Uint8Array): void {
    let p = 0;
    let first = -1;
    while (p + FLV_TAG_HEADER_SIZE <= body.length) {
      const type = body[p] & 0x1f;
      const size = (body[p + 1] << 16) | (body[p + 2] << 8) | body[p + 3];
      const ts = ((body[p + 7] << 24) | (body[p + 4] << 16) | (body[p + 5] << 8) | body[p + 6]) >>> 0;
      const end = p + FLV_TAG_HEADER_SIZE + size;
      if (end > body.length) {
        this.demuxer.errors++;
        return;
      }
      if (first < 0) first = ts;
      this.push(type, (timestamp + ts - first) >>> 0, body.subarray(p + FLV_TAG_HEADER_SIZE, end));
      p = end + 4;
    }
  }

  /** Fixes the medias from the tracks complete so far (also called after a wait with some tracks). */
  finish(): void {
    if (this.#ready) return;
    this.#ready = true;
    for (const t of this.demuxer.tracks) {
      if (!t.ready) continue;
      const media: Media = { kind: t.kind, direction: "recvonly", codecs: [t.codec], id: t.kind };
      this.medias.push(media);
      this.#receivers.set(t, new Receiver(media, t.codec));
    }
    const early = this.#early;
    this.#early = [];
    this.#earlyBytes = 0;
    for (const f of early) this.#receivers.get(f.track)?.push(f.frame);
    this.onReady?.();
  }

  /**
   * The receiver of a media.
   *
   * @throws {RangeError} when there is no such track.
   */
  receiver(media: Media, codec: Codec): Receiver {
    for (const r of this.#receivers.values()) {
      if (r.media === media || (r.media.kind === media.kind && r.codec.name === codec.name)) return r;
    }
    throw new RangeError(
      `RTMP stream has no ${media.kind} track with ${codec.name}; it has ${
        this.medias.map((m) => `${m.kind} ${m.codecs[0].name}`).join(", ") || "no tracks"
      }`,
    );
  }
}

/**
 * The parameter sets of a video sequence header message (legacy AVC/HEVC or enhanced `avc1`/`hvc1`)
 * as AVCC NAL units (4-byte lengths); undefined when it cannot be read.
 */
function parameterSetsOf(body: Uint8Array, codec: string): Uint8Array | undefined {
  if (body.length < 6) return undefined;
  const config = body.subarray(5); // legacy: flags, packet type, cts(3); enhanced: flags, FourCC(4)
  let nals: Uint8Array[];
  try {
    if (codec === "H264") {
      const c = parseAvcDecoderConfig(config);
      nals = [...c.sps, ...c.pps];
    } else {
      const c = parseHevcDecoderConfig(config);
      nals = [...c.vps, ...c.sps, ...c.pps];
    }
  } catch {
    return undefined;
  }
  let size = 0;
  for (const n of nals) size += 4 + n.length;
  const out = new Uint8Array(size);
  let p = 0;
  for (const n of nals) {
    new DataView(out.buffer).setUint32(p, n.length);
    out.set(n, p + 4);
    p += 4 + n.length;
  }
  return out;
}
