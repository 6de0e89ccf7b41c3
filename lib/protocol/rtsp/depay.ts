/**
 * Codec name -> RTP depacketizer, for RTSP producers (camera client, ANNOUNCE/RECORD publisher).
 * Each depacketizer turns RTP packets (in order) into frames that keep their packets on
 * `frame.packets`, so an RTSP viewer can forward them without re-packetizing.
 *
 * @module
 */
import type { Codec } from "../../core/codec.ts";
import type { Frame } from "../../core/frame.ts";
import type { RtpPacket } from "../../rtp/packet.ts";
import { AacDepacketizer } from "../../codec/aac/rtp.ts";
import { LatmDepacketizer } from "../../codec/aac/latm.ts";
import { G711Depacketizer } from "../../codec/g711/rtp.ts";
import { H264Depacketizer } from "../../codec/h264/depacketizer.ts";
import { H265Depacketizer } from "../../codec/h265/depacketizer.ts";
import { MjpegDepacketizer } from "../../codec/mjpeg/rtp.ts";
import { OpusDepacketizer } from "../../codec/opus/rtp.ts";

/**
 * RTP packets in (in sequence order), frames out through the callback given at creation (one packet
 * can complete several frames, e.g. AAC with several access units per packet).
 *
 * @example
 * ```ts
 * const depay = createDepacketizer(codec, "video", (frame) => receiver.push(frame));
 * depay.push(pkt);
 * ```
 */
export interface FrameDepacketizer {
  push(pkt: RtpPacket): void;
}

/** Creates a depacketizer for one codec (see {@link registerDepacketizer}). */
export type DepacketizerFactory = (codec: Codec, onFrame: (frame: Frame) => void) => FrameDepacketizer;

/** Adapts a `push(pkt) -> Frame | undefined` processor to the callback form. */
function fromPull(
  d: { push(pkt: RtpPacket): Frame | undefined },
  onFrame: (frame: Frame) => void,
): FrameDepacketizer {
  return {
    push(pkt: RtpPacket): void {
      const frame = d.push(pkt);
      if (frame) onFrame(frame);
    },
  };
}

const factories = new Map<string, DepacketizerFactory>();

/**
 * Adds or replaces the depacketizer used for a codec name (upper case, as in SDP).
 *
 * @example
 * ```ts
 * registerDepacketizer("VP8", (codec, onFrame) => new Vp8Depacketizer({ onFrame }));
 * ```
 */
export function registerDepacketizer(name: string, factory: DepacketizerFactory): void {
  factories.set(name.toUpperCase(), factory);
}

registerDepacketizer(
  "H264",
  (codec, onFrame) => fromPull(new H264Depacketizer({ fmtp: codec.fmtp }), onFrame),
);
registerDepacketizer(
  "H265",
  (codec, onFrame) => fromPull(new H265Depacketizer({ fmtp: codec.fmtp }), onFrame),
);
// fromCodec passes the clock rate, so HE-AAC clocked at the SBR rate steps 2048 samples per AU.
registerDepacketizer("MPEG4-GENERIC", (codec, onFrame) => AacDepacketizer.fromCodec(codec, onFrame));
registerDepacketizer("MP4A-LATM", (codec, onFrame) => LatmDepacketizer.fromCodec(codec, onFrame));
registerDepacketizer("PCMA", (_codec, onFrame) => fromPull(new G711Depacketizer(), onFrame));
registerDepacketizer("PCMU", (_codec, onFrame) => fromPull(new G711Depacketizer(), onFrame));
registerDepacketizer("OPUS", (_codec, onFrame) => fromPull(new OpusDepacketizer(), onFrame));
registerDepacketizer("JPEG", (_codec, onFrame) => fromPull(new MjpegDepacketizer(), onFrame));

/**
 * Fallback for codecs without a dedicated depacketizer.
 *
 * - `perPacket` (audio such as G.711, Opus, L16): each packet is one frame; the payload is the data.
 * - otherwise (video): packets are collected until the marker bit (or a timestamp change) and their
 *   payloads concatenated; `keyframe` is unknown and set to false.
 *
 * @example
 * ```ts
 * const depay = new GenericDepacketizer(true);
 * depay.push(pcmaPacket); // { timestamp, keyframe: false, data: payload, packets: [pcmaPacket] }
 * ```
 */
export class GenericDepacketizer {
  readonly perPacket: boolean;
  /** Largest frame in bytes; larger ones are dropped. */
  readonly maxFrameSize: number;
  droppedFrames = 0;
  #packets: RtpPacket[] = [];
  #size = 0;
  #timestamp = 0;
  #pending: Frame | undefined;

  constructor(perPacket: boolean, maxFrameSize = 5 * 1024 * 1024) {
    this.perPacket = perPacket;
    this.maxFrameSize = maxFrameSize;
  }

  push(pkt: RtpPacket): Frame | undefined {
    if (this.perPacket) {
      if (pkt.payload.length === 0) return undefined;
      return { timestamp: pkt.timestamp, keyframe: false, data: pkt.payload, packets: [pkt] };
    }
    let out = this.#pending;
    this.#pending = undefined;
    if (this.#packets.length && pkt.timestamp !== this.#timestamp) {
      const done = this.#finish();
      if (out) this.#pending = done;
      else out = done;
    }
    if (!this.#packets.length) this.#timestamp = pkt.timestamp;
    this.#packets.push(pkt);
    this.#size += pkt.payload.length;
    if (this.#size > this.maxFrameSize) {
      this.droppedFrames++;
      this.#packets = [];
      this.#size = 0;
      return out;
    }
    if (pkt.marker) {
      // A timestamp change and a marker on the same packet complete two frames: hand out the
      // older one now and the other on the next push.
      const done = this.#finish();
      if (out) this.#pending = done;
      else out = done;
    }
    return out;
  }

  #finish(): Frame | undefined {
    const packets = this.#packets;
    this.#packets = [];
    const size = this.#size;
    this.#size = 0;
    if (!packets.length) return undefined;
    const data = new Uint8Array(size);
    let off = 0;
    for (const p of packets) {
      data.set(p.payload, off);
      off += p.payload.length;
    }
    return { timestamp: this.#timestamp, keyframe: false, data, packets };
  }
}

/**
 * The depacketizer for a codec: a registered one by name, else {@link GenericDepacketizer}.
 *
 * @example
 * ```ts
 * createDepacketizer({ name: "PCMA", clockRate: 8000 }, "audio", (f) => receiver.push(f)); // one frame per packet
 * ```
 */
export function createDepacketizer(
  codec: Codec,
  kind: "video" | "audio",
  onFrame: (frame: Frame) => void,
): FrameDepacketizer {
  const factory = factories.get(codec.name.toUpperCase());
  if (factory) return factory(codec, onFrame);
  // Audio without a dedicated depacketizer is one frame per packet (true of G.711, Opus, L16...).
  return fromPull(new GenericDepacketizer(kind === "audio"), onFrame);
}
