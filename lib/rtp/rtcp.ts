/**
 * RTCP packets (RFC 3550 section 6): sender and receiver reports, source descriptions, BYE, and
 * compound packets. APP and feedback packets (RFC 4585: 205/206) are kept as raw payloads so a
 * compound packet always round-trips.
 *
 * Every RTCP packet starts with the same 4-byte header (section 6.4.1):
 *
 * ```text
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|  count  |      PT       |    length (32-bit words - 1)  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * A compound packet is several of these back to back in one datagram (section 6.1).
 *
 * @module
 */

/** RTCP packet type numbers (RFC 3550 section 12.1, RFC 4585 section 6.1). */
export const RtcpPacketType = {
  SR: 200,
  RR: 201,
  SDES: 202,
  BYE: 203,
  APP: 204,
  RTPFB: 205,
  PSFB: 206,
} as const;

/** SDES item types (RFC 3550 section 6.5). */
export const SdesItemType = {
  CNAME: 1,
  NAME: 2,
  EMAIL: 3,
  PHONE: 4,
  LOC: 5,
  TOOL: 6,
  NOTE: 7,
  PRIV: 8,
} as const;

/**
 * One reception report block (RFC 3550 section 6.4.1), 24 bytes on the wire.
 *
 * ```text
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * |                 SSRC_1 (SSRC of first source)                 |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | fraction lost |       cumulative number of packets lost       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           extended highest sequence number received           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                      interarrival jitter                      |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                         last SR (LSR)                         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                   delay since last SR (DLSR)                  |
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * ```
 *
 * @example
 * ```ts
 * const block: RtcpReportBlock = { ssrc: 1, fractionLost: 0, packetsLost: 0, highestSequence: 70000,
 *   jitter: 12, lastSenderReport: 0, delaySinceLastSenderReport: 0 };
 * ```
 */
export interface RtcpReportBlock {
  ssrc: number;
  /** Fraction lost since the previous report, as a fixed-point number over 256 (0..255). */
  fractionLost: number;
  /** Cumulative packets lost, a signed 24-bit value (duplicates can make it negative). */
  packetsLost: number;
  /** Extended highest sequence number: cycles << 16 | highest sequence number. */
  highestSequence: number;
  /** Interarrival jitter in RTP timestamp units. */
  jitter: number;
  /** Middle 32 bits of the NTP time of the last SR received from this source (0 if none). */
  lastSenderReport: number;
  /** Delay since that SR, in units of 1/65536 s. */
  delaySinceLastSenderReport: number;
}

/**
 * Sender report (PT 200, RFC 3550 section 6.4.1).
 *
 * @example
 * ```ts
 * const sr: RtcpSenderReport = { type: "sr", ssrc: 1, ntpSeconds: 3900000000, ntpFraction: 0,
 *   rtpTimestamp: 90000, packetCount: 10, octetCount: 12000, reports: [] };
 * ```
 */
export interface RtcpSenderReport {
  type: "sr";
  ssrc: number;
  /** NTP timestamp, seconds since 1900 (most significant word). */
  ntpSeconds: number;
  /** NTP timestamp, fraction of a second in units of 2^-32 (least significant word). */
  ntpFraction: number;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
  reports: RtcpReportBlock[];
  /** Profile-specific extension bytes after the report blocks (a multiple of 4 bytes). */
  extension?: Uint8Array;
}

/**
 * Receiver report (PT 201, RFC 3550 section 6.4.2).
 *
 * @example
 * ```ts
 * const rr: RtcpReceiverReport = { type: "rr", ssrc: 2, reports: [] };
 * ```
 */
export interface RtcpReceiverReport {
  type: "rr";
  ssrc: number;
  reports: RtcpReportBlock[];
  extension?: Uint8Array;
}

/** One SDES item: `type` from {@link SdesItemType}, text as UTF-8 on the wire (at most 255 bytes). */
export interface SdesItem {
  type: number;
  text: string;
}

/** The items describing one source. */
export interface SdesChunk {
  ssrc: number;
  items: SdesItem[];
}

/**
 * Source description (PT 202, RFC 3550 section 6.5).
 *
 * @example
 * ```ts
 * const sdes: RtcpSourceDescription = { type: "sdes",
 *   chunks: [{ ssrc: 1, items: [{ type: SdesItemType.CNAME, text: "strom" }] }] };
 * ```
 */
export interface RtcpSourceDescription {
  type: "sdes";
  chunks: SdesChunk[];
}

/**
 * Goodbye (PT 203, RFC 3550 section 6.6).
 *
 * @example
 * ```ts
 * const bye: RtcpGoodbye = { type: "bye", ssrcs: [1], reason: "camera offline" };
 * ```
 */
export interface RtcpGoodbye {
  type: "bye";
  ssrcs: number[];
  reason?: string;
}

/**
 * Any other packet (APP, transport/payload feedback, XR...), kept as its header fields and the bytes
 * after the 4-byte header, so it can be written back unchanged.
 *
 * @example
 * ```ts
 * // A PLI (RFC 4585 6.3.1): PSFB, FMT 1, sender SSRC then media SSRC.
 * const pli: RtcpRawPacket = { type: "raw", packetType: 206, count: 1, payload: new Uint8Array(8) };
 * ```
 */
export interface RtcpRawPacket {
  type: "raw";
  packetType: number;
  /** The 5-bit count field (a subtype or FMT for APP and feedback packets). */
  count: number;
  /** Bytes after the common header, a multiple of 4, padding removed. */
  payload: Uint8Array;
}

/** One RTCP packet of a compound packet. */
export type RtcpPacket =
  | RtcpSenderReport
  | RtcpReceiverReport
  | RtcpSourceDescription
  | RtcpGoodbye
  | RtcpRawPacket;

/** Bytes that are not a valid (compound) RTCP packet. */
export class RtcpParseError extends RangeError {
  override name = "RtcpParseError";
  /** Byte offset in the datagram where the bad packet starts. */
  readonly offset: number;
  constructor(offset: number, reason: string) {
    super(`Cannot parse RTCP packet at byte ${offset}: ${reason}`);
    this.offset = offset;
  }
}

const textDecoder = new TextDecoder();
const textEncoder = new TextEncoder();

/**
 * Whether a datagram on a muxed RTP/RTCP port is RTCP (RFC 5761 section 4: the second byte is an
 * RTCP packet type in 192..223, which no dynamic RTP payload type with marker bit can be).
 *
 * @example
 * ```ts
 * socket.onMessage = (d) => isRtcp(d) ? onRtcp(parseRtcp(d)) : onRtp(parseRtp(d));
 * ```
 */
export function isRtcp(buf: Uint8Array): boolean {
  return buf.length >= 8 && buf[0] >> 6 === 2 && buf[1] >= 192 && buf[1] <= 223;
}

/**
 * Parses a (compound) RTCP datagram. Views into `buf` are returned for raw payloads and extensions.
 * Throws {@link RtcpParseError} on a wrong version or a length that runs past the datagram.
 *
 * @example
 * ```ts
 * for (const p of parseRtcp(datagram)) if (p.type === "sr") lastSr.set(p.ssrc, p);
 * ```
 */
export function parseRtcp(buf: Uint8Array): RtcpPacket[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: RtcpPacket[] = [];
  let offset = 0;
  if (buf.length < 4) {
    throw new RtcpParseError(0, `datagram of ${buf.length} bytes is shorter than the 4-byte header`);
  }
  while (offset < buf.length) {
    if (offset + 4 > buf.length) {
      throw new RtcpParseError(offset, `${buf.length - offset} trailing bytes are shorter than a header`);
    }
    const b0 = buf[offset];
    if (b0 >> 6 !== 2) throw new RtcpParseError(offset, `version ${b0 >> 6}, expected 2`);
    const count = b0 & 0x1f;
    const packetType = buf[offset + 1];
    const size = (view.getUint16(offset + 2) + 1) * 4;
    if (offset + size > buf.length) {
      throw new RtcpParseError(
        offset,
        `length field says ${size} bytes but only ${buf.length - offset} remain`,
      );
    }
    let end = offset + size;
    if (b0 & 0x20) {
      const pad = buf[end - 1];
      if (pad === 0 || pad > size - 4) throw new RtcpParseError(offset, `bad padding length ${pad}`);
      end -= pad;
    }
    out.push(parseOne(buf, view, offset, end, packetType, count));
    offset += size;
  }
  return out;
}

function parseOne(
  buf: Uint8Array,
  view: DataView,
  start: number,
  end: number,
  packetType: number,
  count: number,
): RtcpPacket {
  const body = start + 4;
  switch (packetType) {
    case RtcpPacketType.SR: {
      const need = body + 24 + count * 24;
      if (need > end) {
        throw new RtcpParseError(
          start,
          `SR with ${count} report blocks needs ${need - start} bytes, has ${end - start}`,
        );
      }
      const sr: RtcpSenderReport = {
        type: "sr",
        ssrc: view.getUint32(body),
        ntpSeconds: view.getUint32(body + 4),
        ntpFraction: view.getUint32(body + 8),
        rtpTimestamp: view.getUint32(body + 12),
        packetCount: view.getUint32(body + 16),
        octetCount: view.getUint32(body + 20),
        reports: readReportBlocks(view, body + 24, count),
      };
      if (need < end) sr.extension = buf.subarray(need, end);
      return sr;
    }
    case RtcpPacketType.RR: {
      const need = body + 4 + count * 24;
      if (need > end) {
        throw new RtcpParseError(
          start,
          `RR with ${count} report blocks needs ${need - start} bytes, has ${end - start}`,
        );
      }
      const rr: RtcpReceiverReport = {
        type: "rr",
        ssrc: view.getUint32(body),
        reports: readReportBlocks(view, body + 4, count),
      };
      if (need < end) rr.extension = buf.subarray(need, end);
      return rr;
    }
    case RtcpPacketType.SDES: {
      const chunks: SdesChunk[] = [];
      let p = body;
      for (let i = 0; i < count; i++) {
        if (p + 4 > end) throw new RtcpParseError(start, `SDES chunk ${i} at byte ${p} runs past the packet`);
        const chunk: SdesChunk = { ssrc: view.getUint32(p), items: [] };
        p += 4;
        // Items until a zero type octet, then padding to the next 32-bit boundary (section 6.5).
        for (;;) {
          if (p >= end) throw new RtcpParseError(start, `SDES chunk ${i} has no END item`);
          const itemType = buf[p];
          if (itemType === 0) {
            p = start + Math.ceil((p - start + 1) / 4) * 4;
            break;
          }
          if (p + 2 > end || p + 2 + buf[p + 1] > end) {
            throw new RtcpParseError(start, `SDES item at byte ${p} runs past the packet`);
          }
          const len = buf[p + 1];
          chunk.items.push({ type: itemType, text: textDecoder.decode(buf.subarray(p + 2, p + 2 + len)) });
          p += 2 + len;
        }
        chunks.push(chunk);
      }
      return { type: "sdes", chunks };
    }
    case RtcpPacketType.BYE: {
      if (body + count * 4 > end) {
        throw new RtcpParseError(start, `BYE with ${count} sources runs past the packet`);
      }
      const bye: RtcpGoodbye = { type: "bye", ssrcs: [] };
      for (let i = 0; i < count; i++) bye.ssrcs.push(view.getUint32(body + i * 4));
      const r = body + count * 4;
      if (r < end) {
        const len = buf[r];
        if (r + 1 + len > end) {
          throw new RtcpParseError(start, `BYE reason of ${len} bytes runs past the packet`);
        }
        bye.reason = textDecoder.decode(buf.subarray(r + 1, r + 1 + len));
      }
      return bye;
    }
    default:
      return { type: "raw", packetType, count, payload: buf.subarray(body, end) };
  }
}

function readReportBlocks(view: DataView, p: number, count: number): RtcpReportBlock[] {
  const reports: RtcpReportBlock[] = [];
  for (let i = 0; i < count; i++, p += 24) {
    const lost = view.getUint32(p + 4) & 0xffffff;
    reports.push({
      ssrc: view.getUint32(p),
      fractionLost: view.getUint8(p + 4),
      packetsLost: lost & 0x800000 ? lost - 0x1000000 : lost,
      highestSequence: view.getUint32(p + 8),
      jitter: view.getUint32(p + 12),
      lastSenderReport: view.getUint32(p + 16),
      delaySinceLastSenderReport: view.getUint32(p + 20),
    });
  }
  return reports;
}

/**
 * Size in bytes of one packet once serialized (always a multiple of 4).
 *
 * @example
 * ```ts
 * const out = new Uint8Array(rtcpSize(rr)); writeRtcp(rr, out, 0);
 * ```
 */
export function rtcpSize(p: RtcpPacket): number {
  switch (p.type) {
    case "sr":
      return 28 + p.reports.length * 24 + (p.extension?.length ?? 0);
    case "rr":
      return 8 + p.reports.length * 24 + (p.extension?.length ?? 0);
    case "sdes": {
      let n = 4;
      for (const c of p.chunks) {
        let len = 4;
        for (const item of c.items) len += 2 + Math.min(255, textEncoder.encode(item.text).length);
        n += (len + 1 + 3) & ~3; // END octet, then pad to 32 bits
      }
      return n;
    }
    case "bye": {
      let n = 4 + p.ssrcs.length * 4;
      if (p.reason !== undefined) n += (1 + Math.min(255, textEncoder.encode(p.reason).length) + 3) & ~3;
      return n;
    }
    case "raw":
      return 4 + p.payload.length;
  }
}

/**
 * Writes one packet at `offset` and returns the bytes written.
 *
 * @example
 * ```ts
 * let n = writeRtcp(sr, out, 0); n += writeRtcp(sdes, out, n); // a compound packet
 * ```
 */
export function writeRtcp(p: RtcpPacket, out: Uint8Array, offset: number): number {
  const size = rtcpSize(p);
  if (size > 4 * 65536) {
    throw new RangeError(`Cannot write RTCP packet: ${size} bytes exceed the 16-bit length field`);
  }
  if (offset + size > out.length) {
    throw new RangeError(
      `Cannot write RTCP packet of ${size} bytes at offset ${offset}: buffer has ${out.length} bytes`,
    );
  }
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  out.fill(0, offset, offset + size);
  let count: number;
  let packetType: number;
  let p2 = offset + 4;
  switch (p.type) {
    case "sr":
      checkCount(p.reports.length, "SR report blocks");
      count = p.reports.length;
      packetType = RtcpPacketType.SR;
      view.setUint32(p2, p.ssrc >>> 0);
      view.setUint32(p2 + 4, p.ntpSeconds >>> 0);
      view.setUint32(p2 + 8, p.ntpFraction >>> 0);
      view.setUint32(p2 + 12, p.rtpTimestamp >>> 0);
      view.setUint32(p2 + 16, p.packetCount >>> 0);
      view.setUint32(p2 + 20, p.octetCount >>> 0);
      p2 = writeReportBlocks(view, p2 + 24, p.reports);
      if (p.extension) out.set(p.extension, p2);
      break;
    case "rr":
      checkCount(p.reports.length, "RR report blocks");
      count = p.reports.length;
      packetType = RtcpPacketType.RR;
      view.setUint32(p2, p.ssrc >>> 0);
      p2 = writeReportBlocks(view, p2 + 4, p.reports);
      if (p.extension) out.set(p.extension, p2);
      break;
    case "sdes":
      checkCount(p.chunks.length, "SDES chunks");
      count = p.chunks.length;
      packetType = RtcpPacketType.SDES;
      for (const c of p.chunks) {
        const chunkStart = p2;
        view.setUint32(p2, c.ssrc >>> 0);
        p2 += 4;
        for (const item of c.items) {
          const text = textEncoder.encode(item.text).subarray(0, 255);
          out[p2] = item.type;
          out[p2 + 1] = text.length;
          out.set(text, p2 + 2);
          p2 += 2 + text.length;
        }
        // END item (already zero) and padding to a 32-bit boundary.
        p2 = chunkStart + ((p2 - chunkStart + 1 + 3) & ~3);
      }
      break;
    case "bye":
      checkCount(p.ssrcs.length, "BYE sources");
      count = p.ssrcs.length;
      packetType = RtcpPacketType.BYE;
      for (const s of p.ssrcs) {
        view.setUint32(p2, s >>> 0);
        p2 += 4;
      }
      if (p.reason !== undefined) {
        const text = textEncoder.encode(p.reason).subarray(0, 255);
        out[p2] = text.length;
        out.set(text, p2 + 1);
      }
      break;
    case "raw":
      if (p.payload.length % 4) {
        throw new RangeError(
          `Cannot write RTCP packet type ${p.packetType}: payload of ${p.payload.length} bytes is not a multiple of 4`,
        );
      }
      count = p.count & 0x1f;
      packetType = p.packetType;
      out.set(p.payload, p2);
      break;
  }
  out[offset] = 0x80 | count;
  out[offset + 1] = packetType;
  view.setUint16(offset + 2, size / 4 - 1);
  return size;
}

function checkCount(n: number, what: string): void {
  if (n > 31) throw new RangeError(`Cannot write RTCP packet: ${n} ${what} exceed the 5-bit count (max 31)`);
}

function writeReportBlocks(view: DataView, p: number, reports: RtcpReportBlock[]): number {
  for (const r of reports) {
    view.setUint32(p, r.ssrc >>> 0);
    const lost = Math.max(-0x800000, Math.min(0x7fffff, r.packetsLost)) & 0xffffff;
    view.setUint32(p + 4, (((r.fractionLost & 0xff) << 24) | lost) >>> 0);
    view.setUint32(p + 8, r.highestSequence >>> 0);
    view.setUint32(p + 12, r.jitter >>> 0);
    view.setUint32(p + 16, r.lastSenderReport >>> 0);
    view.setUint32(p + 20, r.delaySinceLastSenderReport >>> 0);
    p += 24;
  }
  return p;
}

/**
 * Serializes one packet or a compound packet into a new buffer.
 *
 * @example
 * ```ts
 * socket.send(serializeRtcp([rr, { type: "sdes", chunks: [{ ssrc, items: [{ type: 1, text: "strom" }] }] }]), port, host);
 * ```
 */
export function serializeRtcp(packets: RtcpPacket | RtcpPacket[]): Uint8Array {
  const list = Array.isArray(packets) ? packets : [packets];
  let total = 0;
  for (const p of list) total += rtcpSize(p);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of list) offset += writeRtcp(p, out, offset);
  return out;
}

/** Seconds between the NTP epoch (1900) and the Unix epoch (1970). */
const NTP_UNIX_OFFSET = 2208988800;

/**
 * Wall-clock milliseconds since the Unix epoch as an NTP timestamp (RFC 3550 section 4).
 *
 * @example
 * ```ts
 * const { seconds, fraction } = ntpFromMs(Date.now());
 * ```
 */
export function ntpFromMs(ms: number): { seconds: number; fraction: number } {
  const whole = Math.floor(ms / 1000);
  const fraction = Math.floor(((ms - whole * 1000) / 1000) * 0x100000000);
  return { seconds: (whole + NTP_UNIX_OFFSET) >>> 0, fraction: Math.min(fraction, 0xffffffff) >>> 0 };
}

/**
 * An NTP timestamp as milliseconds since the Unix epoch (for an SR's `ntpSeconds`/`ntpFraction`).
 *
 * @example
 * ```ts
 * const wallClock = new Date(ntpToMs(sr.ntpSeconds, sr.ntpFraction));
 * ```
 */
export function ntpToMs(seconds: number, fraction: number): number {
  return (seconds - NTP_UNIX_OFFSET) * 1000 + (fraction / 0x100000000) * 1000;
}

/**
 * The middle 32 bits of an NTP timestamp, the form used by a report block's LSR field
 * (RFC 3550 section 6.4.1).
 *
 * @example
 * ```ts
 * block.lastSenderReport = ntpMiddle32(sr.ntpSeconds, sr.ntpFraction);
 * ```
 */
export function ntpMiddle32(seconds: number, fraction: number): number {
  return (((seconds & 0xffff) << 16) | (fraction >>> 16)) >>> 0;
}
