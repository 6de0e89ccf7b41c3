/**
 * G.711 over RTP (RFC 3551 section 4.5.14): the payload is the A-law (PCMA, static PT 8) or µ-law
 * (PCMU, static PT 0) bytes, one byte per sample per channel; the timestamp counts samples.
 *
 * @module
 */
import type { Frame } from "../../core/frame.ts";
import type { RtpPacket } from "../../rtp/packet.ts";

/**
 * Static RTP payload type of a G.711 codec at 8000 Hz mono (RFC 3551 table 4), else undefined.
 *
 * @example
 * ```ts
 * g711PayloadType("PCMA"); // 8
 * ```
 */
export function g711PayloadType(name: string, clockRate = 8000, channels = 1): number | undefined {
  if (clockRate !== 8000 || channels > 1) return undefined;
  const n = name.toUpperCase();
  return n === "PCMU" ? 0 : n === "PCMA" ? 8 : undefined;
}

/**
 * Depacketizer: `push(pkt)` returns one {@link Frame} per packet (data = the payload, no copy;
 * timestamp = the RTP timestamp in samples; `packets` = [pkt]), or undefined for an empty payload,
 * which is counted in `errors`. Never throws.
 *
 * @example
 * ```ts
 * const depay = new G711Depacketizer();
 * const frame = depay.push(pkt); if (frame) receiver.push(frame);
 * ```
 */
export class G711Depacketizer {
  errors = 0;

  push(pkt: RtpPacket): Frame | undefined {
    if (pkt.payload.length === 0) {
      this.errors++;
      return undefined;
    }
    return { timestamp: pkt.timestamp, keyframe: true, data: pkt.payload, packets: [pkt] };
  }
}

/** Options of {@link G711Packetizer}. */
export interface G711PacketizerOptions {
  /** 8 for PCMA, 0 for PCMU at 8 kHz; a dynamic type otherwise. */
  payloadType: number;
  ssrc: number;
  /** First sequence number (random by default). */
  sequenceNumber?: number;
  /** Samples (per channel) per packet: 160 = 20 ms at 8 kHz (default). */
  samplesPerPacket?: number;
  /** Interleaved channels (default 1). */
  channels?: number;
}

/**
 * Packetizer: `packetize(frame)` splits a frame of G.711 bytes into packets of `samplesPerPacket`
 * samples, the timestamp advancing by the samples in each.
 *
 * @example
 * ```ts
 * const pay = new G711Packetizer({ payloadType: 8, ssrc: 1 });
 * for (const pkt of pay.packetize({ timestamp: 0, keyframe: true, data: pcma })) send(pkt);
 * ```
 */
export class G711Packetizer {
  readonly payloadType: number;
  readonly ssrc: number;
  readonly samplesPerPacket: number;
  readonly channels: number;
  #seq: number;

  constructor(opts: G711PacketizerOptions) {
    this.payloadType = opts.payloadType;
    this.ssrc = opts.ssrc >>> 0;
    this.samplesPerPacket = Math.max(1, opts.samplesPerPacket ?? 160);
    this.channels = Math.max(1, opts.channels ?? 1);
    this.#seq = (opts.sequenceNumber ?? Math.floor(Math.random() * 0x10000)) & 0xffff;
  }

  packetize(frame: Frame): RtpPacket[] {
    const out: RtpPacket[] = [];
    const step = this.samplesPerPacket * this.channels;
    const data = frame.data;
    for (let off = 0; off < data.length; off += step) {
      out.push({
        payloadType: this.payloadType,
        sequenceNumber: this.#seq,
        timestamp: (frame.timestamp + off / this.channels) >>> 0,
        ssrc: this.ssrc,
        marker: false,
        payload: data.subarray(off, Math.min(data.length, off + step)),
      });
      this.#seq = (this.#seq + 1) & 0xffff;
    }
    return out;
  }
}
