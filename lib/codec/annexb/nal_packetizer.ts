/**
 * The codec-neutral half of H.264 (RFC 6184) and H.265 (RFC 7798) RTP packetizing: one access unit
 * (AVCC) in, RTP packets out.
 *
 * - A NAL unit that fits the payload budget goes in a packet of its own (single NAL unit packet).
 * - Consecutive parameter sets that fit together go in one aggregation packet (STAP-A / AP), so a
 *   keyframe costs one packet less and receivers get SPS and PPS together.
 * - A NAL unit larger than the budget is cut into fragmentation units (FU-A / FU); its own header is
 *   not sent but rebuilt by the receiver from the FU headers.
 * - The last packet of the access unit has the marker bit; sequence numbers continue across calls.
 *
 * @module
 */
import type { Frame } from "../../core/frame.ts";
import type { RtpPacket } from "../../rtp/packet.ts";

/**
 * Options shared by the H.264 and H.265 packetizers.
 *
 * @example
 * ```ts
 * const o: NalPacketizerOptions = { mtu: 1400, payloadType: 96, ssrc: 0x1234, sequenceNumber: 0 };
 * ```
 */
export interface NalPacketizerOptions {
  /** Largest RTP packet in bytes, the 12-byte RTP header included (no CSRC, no extension). Default 1200. */
  mtu?: number;
  /** RTP payload type, default 96. */
  payloadType?: number;
  /** SSRC, default random. */
  ssrc?: number;
  /** Sequence number of the first packet, default random. */
  sequenceNumber?: number;
}

const RTP_HEADER = 12;

/**
 * Base class of `H264Packetizer` and `H265Packetizer`.
 *
 * @example
 * ```ts
 * for (const pkt of packetizer.packetize(frame)) socket.send(serializeRtp(pkt), port, host);
 * ```
 */
export abstract class NalPacketizer {
  /** Largest RTP packet, header included. */
  readonly mtu: number;
  readonly payloadType: number;
  readonly ssrc: number;
  /** Sequence number the next packet gets. */
  sequenceNumber: number;
  /** Frames whose AVCC data was malformed; their packets stop at the bad length prefix. */
  errors = 0;

  /** NAL unit header size: 1 for H.264, 2 for H.265. */
  protected abstract readonly headerSize: number;
  /** FU payload header size (FU indicator + FU header): 2 for H.264, 3 for H.265. */
  protected abstract readonly fuHeaderSize: number;

  constructor(options: NalPacketizerOptions = {}) {
    this.mtu = options.mtu ?? 1200;
    if (!(this.mtu >= RTP_HEADER + 64)) {
      throw new RangeError(
        `Cannot packetize with mtu ${options.mtu}: it must be at least ${RTP_HEADER + 64} bytes`,
      );
    }
    this.payloadType = options.payloadType ?? 96;
    this.ssrc = (options.ssrc ?? Math.floor(Math.random() * 0x100000000)) >>> 0;
    this.sequenceNumber = (options.sequenceNumber ?? Math.floor(Math.random() * 0x10000)) & 0xffff;
  }

  /** Whether a NAL unit may share an aggregation packet with its neighbours (parameter sets). */
  protected abstract aggregatable(nal: Uint8Array): boolean;

  /**
   * Writes the aggregation packet header (STAP-A / AP) for the NAL units in `data` between the
   * length prefixes at `from` and `to`, and returns its size.
   */
  protected abstract writeAggregationHeader(
    out: Uint8Array,
    at: number,
    data: Uint8Array,
    from: number,
    to: number,
  ): number;

  /** Writes the FU indicator/payload header and FU header for a fragment of `nal`. */
  protected abstract writeFuHeader(
    out: Uint8Array,
    at: number,
    nal: Uint8Array,
    start: boolean,
    end: boolean,
  ): void;

  /**
   * Cuts one AVCC access unit into RTP packets. Returns a new array per frame (not per packet);
   * payloads of single NAL unit packets are views into `frame.data`, the others share one buffer
   * allocated for the frame.
   *
   * @example
   * ```ts
   * const packets = packetizer.packetize({ timestamp: 90000, keyframe: true, data: avcc });
   * ```
   */
  packetize(frame: Frame): RtpPacket[] {
    const data = frame.data;
    const budget = this.mtu - RTP_HEADER;
    const timestamp = frame.timestamp >>> 0;
    const packets: RtpPacket[] = [];
    // FU and aggregation payloads are written into one buffer per frame. Each NAL unit takes at most
    // its AVCC size plus one FU header per fragment there, which bounds the whole.
    const chunk = budget - this.fuHeaderSize;
    this.#out = undefined;
    this.#outSize = data.length + this.fuHeaderSize * (2 * Math.ceil(data.length / chunk) + 1);
    this.#used = 0;

    let p = 0;
    while (p < data.length) {
      const end = nalEnd(data, p);
      if (end < 0) {
        this.errors++;
        break;
      }
      const nal = data.subarray(p + 4, end);
      if (nal.length === 0) {
        p = end;
        continue;
      }
      if (this.aggregatable(nal) && nal.length + this.headerSize + 2 <= budget) {
        // Extend the run of aggregatable NAL units while they fit in one packet.
        let size = this.headerSize + 2 + nal.length;
        let runEnd = end;
        let count = 1;
        while (runEnd < data.length) {
          const nextEnd = nalEnd(data, runEnd);
          if (nextEnd < 0) break;
          const next = data.subarray(runEnd + 4, nextEnd);
          if (next.length === 0 || !this.aggregatable(next) || size + 2 + next.length > budget) break;
          size += 2 + next.length;
          runEnd = nextEnd;
          count++;
        }
        if (count > 1) {
          const out = this.#reserve(size);
          const start = this.#used;
          let w = start + this.writeAggregationHeader(out, start, data, p, runEnd);
          for (let q = p; q < runEnd;) {
            const qEnd = nalEnd(data, q);
            const len = qEnd - q - 4;
            out[w] = len >> 8;
            out[w + 1] = len & 0xff;
            out.set(data.subarray(q + 4, qEnd), w + 2);
            w += 2 + len;
            q = qEnd;
          }
          this.#used = w;
          packets.push(this.#packet(out.subarray(start, w), timestamp));
          p = runEnd;
          continue;
        }
      }
      if (nal.length <= budget) {
        packets.push(this.#packet(nal, timestamp));
      } else {
        // Fragmentation units: the NAL header is not sent, the body is cut into budget-sized pieces.
        const body = nal.subarray(this.headerSize);
        for (let off = 0; off < body.length; off += chunk) {
          const piece = body.subarray(off, Math.min(off + chunk, body.length));
          const out = this.#reserve(this.fuHeaderSize + piece.length);
          const start = this.#used;
          this.writeFuHeader(out, start, nal, off === 0, off + chunk >= body.length);
          out.set(piece, start + this.fuHeaderSize);
          this.#used = start + this.fuHeaderSize + piece.length;
          packets.push(this.#packet(out.subarray(start, this.#used), timestamp));
        }
      }
      p = end;
    }
    if (packets.length) packets[packets.length - 1].marker = true;
    this.#out = undefined;
    return packets;
  }

  #out: Uint8Array | undefined;
  #outSize = 0;
  #used = 0;

  /** The frame's payload buffer with room for `n` more bytes at `#used`. */
  #reserve(n: number): Uint8Array {
    if (!this.#out || this.#used + n > this.#out.length) {
      // Payloads already handed out keep the old buffer alive; the bound makes this the first call only.
      this.#out = new Uint8Array(Math.max(this.#outSize, n));
      this.#used = 0;
    }
    return this.#out;
  }

  #packet(payload: Uint8Array, timestamp: number): RtpPacket {
    const pkt: RtpPacket = {
      payloadType: this.payloadType,
      sequenceNumber: this.sequenceNumber,
      timestamp,
      ssrc: this.ssrc,
      marker: false,
      payload,
    };
    this.sequenceNumber = (this.sequenceNumber + 1) & 0xffff;
    return pkt;
  }
}

/** End of the AVCC NAL unit whose length prefix is at `p`, or -1 when the prefix is bad. */
function nalEnd(data: Uint8Array, p: number): number {
  if (p + 4 > data.length) return -1;
  const len = ((data[p] << 24) | (data[p + 1] << 16) | (data[p + 2] << 8) | data[p + 3]) >>> 0;
  const end = p + 4 + len;
  return end > data.length ? -1 : end;
}
