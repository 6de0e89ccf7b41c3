/**
 * Codec name -> RTP packetizer, for RTSP viewers of sources that are not RTP (RTMP, MPEG-TS, files,
 * ffmpeg pipes): their frames have no `packets`, so they are cut into RTP packets here. Sequence
 * numbers, SSRC and payload type are rewritten by the viewer afterwards, so the values chosen here
 * do not matter.
 *
 * @module
 */
import type { Codec } from "../../core/codec.ts";
import type { Frame } from "../../core/frame.ts";
import type { RtpPacket } from "../../rtp/packet.ts";
import { AacPacketizer } from "../../codec/aac/rtp.ts";
import { G711Packetizer } from "../../codec/g711/rtp.ts";
import { H264Packetizer } from "../../codec/h264/packetizer.ts";
import { H265Packetizer } from "../../codec/h265/packetizer.ts";
import { MjpegPacketizer } from "../../codec/mjpeg/rtp.ts";
import { OpusPacketizer } from "../../codec/opus/rtp.ts";

/**
 * Frames in, RTP packets out.
 *
 * @example
 * ```ts
 * const pay = createPacketizer(codec, "video");
 * for (const pkt of pay.packetize(frame)) send(pkt);
 * ```
 */
export interface FramePacketizer {
  packetize(frame: Frame): RtpPacket[];
}

/** Creates a packetizer for one codec (see {@link registerPacketizer}). */
export type PacketizerFactory = (codec: Codec, mtu: number) => FramePacketizer;

const factories = new Map<string, PacketizerFactory>();

/**
 * Adds or replaces the packetizer used for a codec name (upper case, as in SDP).
 *
 * @example
 * ```ts
 * registerPacketizer("VP8", (codec, mtu) => new Vp8Packetizer({ mtu }));
 * ```
 */
export function registerPacketizer(name: string, factory: PacketizerFactory): void {
  factories.set(name.toUpperCase(), factory);
}

registerPacketizer("H264", (_codec, mtu) => new H264Packetizer({ mtu, ssrc: 0, sequenceNumber: 0 }));
registerPacketizer("H265", (_codec, mtu) => new H265Packetizer({ mtu, ssrc: 0, sequenceNumber: 0 }));
registerPacketizer(
  "MPEG4-GENERIC",
  (_codec, mtu) => new AacPacketizer({ payloadType: 96, ssrc: 0, maxPayloadSize: mtu - 12 }),
);
registerPacketizer(
  "PCMA",
  (codec) => new G711Packetizer({ payloadType: 8, ssrc: 0, channels: codec.channels }),
);
registerPacketizer(
  "PCMU",
  (codec) => new G711Packetizer({ payloadType: 0, ssrc: 0, channels: codec.channels }),
);
registerPacketizer("OPUS", () => new OpusPacketizer({ payloadType: 111, ssrc: 0 }));
registerPacketizer("JPEG", (_codec, mtu) => new MjpegPacketizer({ ssrc: 0, maxPayloadSize: mtu - 12 }));

/**
 * Fallback: the frame as one packet (audio frames such as G.711, Opus, L16 fit), split into
 * MTU-sized packets with the marker on the last for anything larger.
 *
 * @example
 * ```ts
 * new SinglePacketizer(1200, false).packetize({ timestamp: 0, keyframe: false, data: pcma });
 * ```
 */
export class SinglePacketizer implements FramePacketizer {
  readonly mtu: number;
  readonly video: boolean;
  constructor(mtu: number, video: boolean) {
    this.mtu = mtu;
    this.video = video;
  }

  packetize(frame: Frame): RtpPacket[] {
    const room = this.mtu - 12;
    const data = frame.data;
    const out: RtpPacket[] = [];
    for (let off = 0; off < data.length; off += room) {
      const end = Math.min(data.length, off + room);
      out.push({
        payloadType: 0,
        sequenceNumber: 0,
        timestamp: frame.timestamp >>> 0,
        ssrc: 0,
        marker: this.video && end === data.length,
        payload: data.subarray(off, end),
      });
    }
    return out;
  }
}

/**
 * The packetizer for a codec: a registered one by name, else {@link SinglePacketizer}.
 *
 * @example
 * ```ts
 * createPacketizer({ name: "H264", clockRate: 90000 }, "video"); // H264Packetizer
 * ```
 */
export function createPacketizer(codec: Codec, kind: "video" | "audio", mtu = 1200): FramePacketizer {
  const factory = factories.get(codec.name.toUpperCase());
  if (factory) return factory(codec, mtu);
  return new SinglePacketizer(mtu, kind === "video");
}
