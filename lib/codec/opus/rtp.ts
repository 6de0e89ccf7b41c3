/**
 * Opus over RTP (RFC 7587): exactly one Opus packet per RTP packet, no payload header. The RTP clock
 * is always 48 kHz whatever the coded bandwidth, and SDP always says `opus/48000/2`.
 *
 * @module
 */
import type { Frame } from "../../core/frame.ts";
import type { RtpPacket } from "../../rtp/packet.ts";
import { opusPacketDuration } from "./toc.ts";

/**
 * Depacketizer: `push(pkt)` returns one {@link Frame} per packet (data = the Opus packet, no copy;
 * timestamp = the RTP timestamp; `packets` = [pkt]). Empty payloads and payloads whose TOC does not
 * describe a valid packet are counted in `errors` and return undefined. Never throws.
 *
 * @example
 * ```ts
 * const depay = new OpusDepacketizer();
 * const frame = depay.push(pkt); if (frame) receiver.push(frame);
 * ```
 */
export class OpusDepacketizer {
  errors = 0;

  push(pkt: RtpPacket): Frame | undefined {
    if (opusPacketDuration(pkt.payload) === 0) {
      this.errors++;
      return undefined;
    }
    return { timestamp: pkt.timestamp, keyframe: true, data: pkt.payload, packets: [pkt] };
  }
}

/** Options of {@link OpusPacketizer}. */
export interface OpusPacketizerOptions {
  payloadType: number;
  ssrc: number;
  /** First sequence number (random by default). */
  sequenceNumber?: number;
}

/**
 * Packetizer: `packetize(frame)` returns one packet carrying the frame's Opus packet, with the
 * frame's timestamp (48 kHz).
 *
 * @example
 * ```ts
 * const pay = new OpusPacketizer({ payloadType: 111, ssrc: 1 });
 * const [pkt] = pay.packetize(frame);
 * ```
 */
export class OpusPacketizer {
  readonly payloadType: number;
  readonly ssrc: number;
  #seq: number;

  constructor(opts: OpusPacketizerOptions) {
    this.payloadType = opts.payloadType;
    this.ssrc = opts.ssrc >>> 0;
    this.#seq = (opts.sequenceNumber ?? Math.floor(Math.random() * 0x10000)) & 0xffff;
  }

  packetize(frame: Frame): RtpPacket[] {
    const pkt: RtpPacket = {
      payloadType: this.payloadType,
      sequenceNumber: this.#seq,
      timestamp: frame.timestamp >>> 0,
      ssrc: this.ssrc,
      marker: false,
      payload: frame.data,
    };
    this.#seq = (this.#seq + 1) & 0xffff;
    return [pkt];
  }
}
