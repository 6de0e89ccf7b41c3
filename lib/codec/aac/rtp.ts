/**
 * AAC over RTP as `MPEG4-GENERIC` (RFC 3640), mode AAC-hbr, the form RTSP cameras and ffmpeg use.
 *
 * ```text
 * +---------+-----------+-----------+---------------+
 * | RTP     | AU Header | Auxiliary | Access Unit   |
 * | Header  | Section   | Section   | Data Section  |
 * +---------+-----------+-----------+---------------+
 *
 * AU Header Section (RFC 3640 3.2.1), AAC-hbr: sizelength=13, indexlength=indexdeltalength=3
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+- .. -+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |AU-headers-length (bits, 16)   |AU-size(13)|idx(3)|AU-size(13)|delta(3)|..
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+- .. -+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * One packet may carry several access units (each gets its own header), or one access unit may be
 * fragmented over several packets with the same timestamp, marker set on the last (RFC 3640 3.2.3).
 *
 * @module
 */
import type { Frame } from "../../core/frame.ts";
import type { RtpPacket } from "../../rtp/packet.ts";
import type { Codec } from "../../core/codec.ts";
import { BitReader } from "./_bits.ts";
import { aacFrameDuration, type AudioSpecificConfig, parseAudioSpecificConfig } from "./config.ts";
import { ADTS_HEADER_SIZE, isAdts, parseAdtsHeader } from "./adts.ts";
import { type AacFmtp, parseAacFmtp } from "./fmtp.ts";

/** Options of {@link AacDepacketizer}. */
export interface AacDepacketizerOptions {
  /** Receives each access unit, synchronously from `push()`. */
  onFrame: (frame: Frame) => void;
  /** The SDP fmtp line (`mode=AAC-hbr;sizelength=13;...;config=1210`). */
  fmtp?: string;
  /** RTP clock rate (SDP rtpmap); lets an HE-AAC stream clocked at its SBR rate step 2048 per AU. */
  clockRate?: number;
  /** Overrides the AU duration in clock ticks (from `config=` and `clockRate` by default, else 1024). */
  frameLength?: number;
}

/**
 * RFC 3640 depacketizer. Emits one {@link Frame} per access unit through the `onFrame` callback given
 * at construction (one packet can hold several AUs), with `timestamp` = RTP timestamp +
 * AU index x frameLength (1024 samples for AAC-LC). `data` is the raw AU, a view into the packet when
 * not fragmented. `packets` is set when the AU is exactly the packet's content (one AU per packet,
 * or all fragments of one AU).
 *
 * Never throws on bad input: malformed packets are counted in `errors` and skipped. Also accepts a
 * payload that is a bare ADTS frame instead of AU headers (seen on some cameras, go2rtc issue #1328).
 *
 * @example
 * ```ts
 * const depay = new AacDepacketizer({ fmtp: codec.fmtp, onFrame: (f) => receiver.push(f) });
 * track.onPacket = (pkt) => depay.push(pkt);
 * ```
 */
export class AacDepacketizer {
  /** Packets or AUs dropped as malformed, incomplete or out of sequence. */
  errors = 0;
  /** The stream's AudioSpecificConfig from fmtp `config=`, when present and valid. */
  readonly config: AudioSpecificConfig | undefined;
  readonly frameLength: number;
  readonly #fmtp: AacFmtp;
  readonly #onFrame: (frame: Frame) => void;
  /** True when every AU header field has zero length, so the AU header section is absent. */
  readonly #headerless: boolean;
  // Fragment reassembly.
  #frag = new Uint8Array(2048);
  #fragLen = 0;
  #fragSize = 0;
  #fragTs = 0;
  #fragSeq = 0;
  #fragPackets: RtpPacket[] = [];

  constructor(opts: AacDepacketizerOptions) {
    this.#onFrame = opts.onFrame;
    this.#fmtp = parseAacFmtp(opts.fmtp);
    let config: AudioSpecificConfig | undefined;
    if (this.#fmtp.config) {
      try {
        config = parseAudioSpecificConfig(this.#fmtp.config);
      } catch { /* unusable config: keep defaults */ }
    }
    this.config = config;
    this.frameLength = opts.frameLength ?? this.#fmtp.constantDuration ??
      (config ? aacFrameDuration(config, opts.clockRate) : 1024);
    const f = this.#fmtp;
    this.#headerless = f.sizeLength === 0 && f.indexLength === 0 && f.indexDeltaLength === 0 &&
      f.ctsDeltaLength === 0 && f.dtsDeltaLength === 0 && !f.randomAccessIndication &&
      f.streamStateIndication === 0;
  }

  /**
   * Builds a depacketizer for a negotiated codec (name `MPEG4-GENERIC`).
   *
   * @example
   * ```ts
   * const depay = AacDepacketizer.fromCodec(codec, (f) => receiver.push(f));
   * ```
   */
  static fromCodec(codec: Codec, onFrame: (frame: Frame) => void): AacDepacketizer {
    return new AacDepacketizer({ fmtp: codec.fmtp, clockRate: codec.clockRate, onFrame });
  }

  push(pkt: RtpPacket): void {
    const payload = pkt.payload;
    if (this.#headerless) {
      const size = this.#fmtp.constantSize;
      if (size && payload.length > size && payload.length % size === 0) {
        // constantsize mode: back-to-back AUs of a known size (RFC 3640 3.2.1).
        this.#dropFragment();
        for (let i = 0, p = 0; p < payload.length; i++, p += size) {
          this.#deliver(
            payload.subarray(p, p + size),
            (pkt.timestamp + i * this.frameLength) >>> 0,
            undefined,
          );
        }
        return;
      }
      // No AU header section at all (RFC 3640 3.2.1): the payload is one AU or a fragment of one,
      // the marker bit ends it.
      this.#unit(pkt, payload, -1, pkt.timestamp);
      return;
    }
    if (payload.length < 2) {
      this.errors++;
      return;
    }
    const headersBits = (payload[0] << 8) | payload[1];
    const headersEnd = 2 + ((headersBits + 7) >> 3);
    if (headersEnd > payload.length || headersBits === 0) {
      // Some cameras send a bare ADTS frame instead (go2rtc issue #1328).
      if (isAdts(payload)) {
        this.#dropFragment();
        this.#emitAdts(pkt);
      } else {
        this.errors++;
      }
      return;
    }
    const f = this.#fmtp;
    try {
      let dataPos = headersEnd;
      if (f.auxiliaryDataSizeLength > 0) {
        // Auxiliary section (RFC 3640 3.2.2): its size in bits, the data, padding to a byte.
        const ar = new BitReader(payload, headersEnd * 8, (payload.length - headersEnd) * 8);
        dataPos = headersEnd + ((f.auxiliaryDataSizeLength + ar.read(f.auxiliaryDataSizeLength) + 7) >> 3);
      }
      const r = new BitReader(payload, 16, headersBits);
      let auIndex = 0;
      for (let n = 0; r.left > 0; n++) {
        const size = f.constantSize ?? r.read(f.sizeLength);
        // AU-Index on the first header, AU-Index-delta (distance minus one) on the next (3.2.1.1).
        if (n === 0) r.skip(f.indexLength);
        else auIndex += 1 + r.read(f.indexDeltaLength);
        if (f.ctsDeltaLength && r.bool()) r.skip(f.ctsDeltaLength);
        if (f.dtsDeltaLength && r.bool()) r.skip(f.dtsDeltaLength);
        if (f.randomAccessIndication) r.skip(1);
        r.skip(f.streamStateIndication);
        const ts = (pkt.timestamp + auIndex * this.frameLength) >>> 0;
        if (n === 0 && r.left === 0) {
          // A single AU header: a whole AU or a fragment of one.
          this.#unit(pkt, payload.subarray(dataPos), size, ts);
          return;
        }
        if (n === 0) this.#dropFragment();
        if (dataPos + size > payload.length) {
          this.errors++;
          return;
        }
        this.#deliver(payload.subarray(dataPos, dataPos + size), ts, undefined);
        dataPos += size;
      }
    } catch {
      // Header fields ran past the AU-headers-length.
      this.errors++;
    }
  }

  /** The only AU of a packet: emit it whole, or collect fragments (size -1: unknown, use marker). */
  #unit(pkt: RtpPacket, data: Uint8Array, size: number, ts: number): void {
    if (this.#fragLen > 0) {
      const continues = pkt.timestamp === this.#fragTs &&
        pkt.sequenceNumber === ((this.#fragSeq + 1) & 0xffff) && size === this.#fragSize;
      if (!continues) this.#dropFragment();
    }
    if (this.#fragLen === 0) {
      const whole = size < 0 ? pkt.marker : data.length >= size;
      if (whole) {
        this.#deliver(size < 0 ? data : data.subarray(0, size), ts, [pkt]);
        return;
      }
      this.#fragTs = pkt.timestamp;
      this.#fragSize = size;
      this.#fragPackets = [];
    }
    this.#append(data);
    this.#fragSeq = pkt.sequenceNumber;
    this.#fragPackets.push(pkt);
    const done = size < 0 ? pkt.marker : this.#fragLen >= size;
    if (!done) {
      // The marker ends an AU; seeing it early means a fragment went missing.
      if (pkt.marker) this.#dropFragment();
      return;
    }
    if (size >= 0 && this.#fragLen !== size) {
      this.#dropFragment();
      return;
    }
    const au = this.#frag.slice(0, this.#fragLen);
    const packets = this.#fragPackets;
    this.#fragLen = 0;
    this.#fragPackets = [];
    this.#deliver(au, this.#fragTs, packets);
  }

  #append(data: Uint8Array): void {
    if (this.#fragLen + data.length > this.#frag.length) {
      const grown = new Uint8Array(Math.max(this.#frag.length * 2, this.#fragLen + data.length));
      grown.set(this.#frag.subarray(0, this.#fragLen));
      this.#frag = grown;
    }
    this.#frag.set(data, this.#fragLen);
    this.#fragLen += data.length;
  }

  #dropFragment(): void {
    if (this.#fragLen > 0) {
      this.errors++;
      this.#fragLen = 0;
      this.#fragPackets = [];
    }
  }

  #deliver(au: Uint8Array, ts: number, packets: RtpPacket[] | undefined): void {
    // An AU that is itself an ADTS frame (some encoders): strip the header.
    if (isAdts(au)) {
      try {
        const h = parseAdtsHeader(au);
        if (h.frameLength === au.length) {
          au = au.subarray(h.headerLength);
          packets = undefined;
        }
      } catch { /* not ADTS after all */ }
    }
    if (au.length === 0) {
      this.errors++;
      return;
    }
    const frame: Frame = { timestamp: ts, keyframe: true, data: au };
    if (packets) frame.packets = packets;
    this.#onFrame(frame);
  }

  #emitAdts(pkt: RtpPacket): void {
    let p = 0;
    let i = 0;
    const payload = pkt.payload;
    while (p + ADTS_HEADER_SIZE <= payload.length) {
      let h;
      try {
        h = parseAdtsHeader(payload, p);
      } catch {
        this.errors++;
        return;
      }
      const end = Math.min(payload.length, p + h.frameLength);
      const au = payload.subarray(p + h.headerLength, end);
      const frame: Frame = {
        timestamp: (pkt.timestamp + i * this.frameLength) >>> 0,
        keyframe: true,
        data: au,
      };
      this.#onFrame(frame);
      p += h.frameLength;
      i++;
    }
  }
}

/** Options of {@link AacPacketizer}. */
export interface AacPacketizerOptions {
  payloadType: number;
  ssrc: number;
  /** First sequence number (random by default). */
  sequenceNumber?: number;
  /** Largest RTP payload in bytes (default 1200); bigger AUs are fragmented (RFC 3640 3.2.3). */
  maxPayloadSize?: number;
}

/**
 * RFC 3640 AAC-hbr packetizer (sizelength=13, indexlength=3): one AU per packet, fragmented when it
 * does not fit, marker set on the packet that ends the AU. `packetize(frame)` returns the packets;
 * the RTP timestamp is `frame.timestamp`. Frames that start with an ADTS header are unwrapped.
 *
 * @example
 * ```ts
 * const pay = new AacPacketizer({ payloadType: 96, ssrc: 1 });
 * for (const pkt of pay.packetize(frame)) conn.write(serializeRtp(pkt));
 * ```
 */
export class AacPacketizer {
  /** Frames refused: empty, or larger than the 13-bit AU-size can signal (8191 bytes). */
  errors = 0;
  readonly payloadType: number;
  readonly ssrc: number;
  readonly maxPayloadSize: number;
  #seq: number;

  constructor(opts: AacPacketizerOptions) {
    this.payloadType = opts.payloadType;
    this.ssrc = opts.ssrc >>> 0;
    this.maxPayloadSize = Math.max(64, opts.maxPayloadSize ?? 1200);
    this.#seq = (opts.sequenceNumber ?? Math.floor(Math.random() * 0x10000)) & 0xffff;
  }

  /** Next sequence number to be used. */
  get sequenceNumber(): number {
    return this.#seq;
  }

  packetize(frame: Frame): RtpPacket[] {
    let au = frame.data;
    if (isAdts(au)) {
      try {
        au = au.subarray(parseAdtsHeader(au).headerLength);
      } catch { /* not ADTS */ }
    }
    if (au.length > 0x1fff || au.length === 0) {
      // AU-size has 13 bits (sizelength=13); no real AAC frame is that large.
      this.errors++;
      return [];
    }
    const room = this.maxPayloadSize - 4;
    const out: RtpPacket[] = [];
    for (let off = 0; off < au.length; off += room) {
      const chunk = au.subarray(off, Math.min(au.length, off + room));
      const payload = new Uint8Array(4 + chunk.length);
      payload[1] = 16; // AU-headers-length: one 16-bit header
      payload[2] = au.length >> 5;
      payload[3] = (au.length & 0x1f) << 3; // AU-Index 0
      payload.set(chunk, 4);
      out.push({
        payloadType: this.payloadType,
        sequenceNumber: this.#seq,
        timestamp: frame.timestamp >>> 0,
        ssrc: this.ssrc,
        marker: off + room >= au.length,
        payload,
      });
      this.#seq = (this.#seq + 1) & 0xffff;
    }
    return out;
  }
}
