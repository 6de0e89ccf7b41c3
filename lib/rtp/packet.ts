/**
 * RTP packets (RFC 3550 section 5.1).
 *
 * ```text
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                           timestamp                           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           synchronization source (SSRC) identifier            |
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * |            contributing source (CSRC) identifiers             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * @module
 */

/**
 * One RTP packet. `payload` is a view into the buffer it was parsed from (no copy).
 *
 * @example
 * ```ts
 * const pkt = parseRtp(bytes);
 * console.log(pkt.sequenceNumber, pkt.marker, pkt.payload.length);
 * ```
 */
export interface RtpPacket {
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  marker: boolean;
  payload: Uint8Array;
  csrc?: number[];
  /** Header extension (profile + data) when the X bit was set. */
  extension?: { profile: number; data: Uint8Array };
  /** Padding byte count that was stripped from the payload. */
  padding?: number;
}

/** Bytes that are not a valid RTP packet, with the reason. */
export class RtpParseError extends RangeError {
  override name = "RtpParseError";
  readonly length: number;
  constructor(length: number, reason: string) {
    super(`Cannot parse RTP packet (${length} bytes): ${reason}`);
    this.length = length;
  }
}

/**
 * Parses an RTP packet without copying the payload.
 *
 * @example
 * ```ts
 * const pkt = parseRtp(new Uint8Array([0x80, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xaa]));
 * pkt.payloadType; // 96
 * ```
 */
export function parseRtp(buf: Uint8Array): RtpPacket {
  if (buf.length < 12) throw new RtpParseError(buf.length, "shorter than the 12-byte header");
  const b0 = buf[0];
  if (b0 >> 6 !== 2) throw new RtpParseError(buf.length, `version ${b0 >> 6}, expected 2`);
  const cc = b0 & 0x0f;
  let offset = 12 + cc * 4;
  if (offset > buf.length) throw new RtpParseError(buf.length, `CSRC count ${cc} runs past the end`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const pkt: RtpPacket = {
    payloadType: buf[1] & 0x7f,
    marker: (buf[1] & 0x80) !== 0,
    sequenceNumber: view.getUint16(2),
    timestamp: view.getUint32(4),
    ssrc: view.getUint32(8),
    payload: buf,
  };
  if (cc) {
    pkt.csrc = [];
    for (let i = 0; i < cc; i++) pkt.csrc.push(view.getUint32(12 + i * 4));
  }
  if (b0 & 0x10) {
    if (offset + 4 > buf.length) throw new RtpParseError(buf.length, "header extension runs past the end");
    const profile = view.getUint16(offset);
    const words = view.getUint16(offset + 2);
    const end = offset + 4 + words * 4;
    if (end > buf.length) throw new RtpParseError(buf.length, `header extension of ${words} words runs past the end`);
    pkt.extension = { profile, data: buf.subarray(offset + 4, end) };
    offset = end;
  }
  let end = buf.length;
  if (b0 & 0x20) {
    const pad = buf[buf.length - 1];
    if (pad === 0 || offset + pad > buf.length) throw new RtpParseError(buf.length, `bad padding length ${pad}`);
    end -= pad;
    pkt.padding = pad;
  }
  pkt.payload = buf.subarray(offset, end);
  return pkt;
}

/**
 * {@link parseRtp} for packets off the network: a malformed one gives `undefined` instead of an
 * exception, so the caller counts it and goes on (one bad datagram never ends a session).
 *
 * @example
 * ```ts
 * const pkt = tryParseRtp(datagram);
 * if (!pkt) badPackets++;
 * else reorder.push(pkt);
 * ```
 */
export function tryParseRtp(buf: Uint8Array): RtpPacket | undefined {
  try {
    return parseRtp(buf);
  } catch (error) {
    if (error instanceof RtpParseError) return undefined;
    throw error;
  }
}

/**
 * Size of a packet once serialized (header, CSRCs, extension, payload; padding is not written).
 *
 * @example
 * ```ts
 * const out = new Uint8Array(rtpSize(pkt)); writeRtp(pkt, out, 0);
 * ```
 */
export function rtpSize(pkt: RtpPacket): number {
  return 12 + (pkt.csrc?.length ?? 0) * 4 + (pkt.extension ? 4 + pkt.extension.data.length : 0) +
    pkt.payload.length;
}

/**
 * Writes a packet into `out` at `offset` and returns the number of bytes written. Lets a sender
 * frame many packets into one buffer without an allocation per packet.
 *
 * @example
 * ```ts
 * const n = writeRtp(pkt, buffer, 4); // e.g. after a 4-byte RTSP interleaved header
 * ```
 */
export function writeRtp(pkt: RtpPacket, out: Uint8Array, offset: number): number {
  const cc = pkt.csrc?.length ?? 0;
  out[offset] = 0x80 | (pkt.extension ? 0x10 : 0) | cc;
  out[offset + 1] = (pkt.marker ? 0x80 : 0) | (pkt.payloadType & 0x7f);
  out[offset + 2] = (pkt.sequenceNumber >> 8) & 0xff;
  out[offset + 3] = pkt.sequenceNumber & 0xff;
  const ts = pkt.timestamp >>> 0;
  out[offset + 4] = ts >>> 24;
  out[offset + 5] = (ts >>> 16) & 0xff;
  out[offset + 6] = (ts >>> 8) & 0xff;
  out[offset + 7] = ts & 0xff;
  const ssrc = pkt.ssrc >>> 0;
  out[offset + 8] = ssrc >>> 24;
  out[offset + 9] = (ssrc >>> 16) & 0xff;
  out[offset + 10] = (ssrc >>> 8) & 0xff;
  out[offset + 11] = ssrc & 0xff;
  let p = offset + 12;
  for (let i = 0; i < cc; i++) {
    const c = pkt.csrc![i] >>> 0;
    out[p++] = c >>> 24;
    out[p++] = (c >>> 16) & 0xff;
    out[p++] = (c >>> 8) & 0xff;
    out[p++] = c & 0xff;
  }
  if (pkt.extension) {
    const words = Math.ceil(pkt.extension.data.length / 4);
    out[p++] = (pkt.extension.profile >> 8) & 0xff;
    out[p++] = pkt.extension.profile & 0xff;
    out[p++] = (words >> 8) & 0xff;
    out[p++] = words & 0xff;
    out.set(pkt.extension.data, p);
    p += pkt.extension.data.length;
  }
  out.set(pkt.payload, p);
  p += pkt.payload.length;
  return p - offset;
}

/**
 * Serializes a packet into a new buffer.
 *
 * @example
 * ```ts
 * const bytes = serializeRtp({ payloadType: 96, sequenceNumber: 1, timestamp: 0, ssrc: 1, marker: true, payload });
 * ```
 */
export function serializeRtp(pkt: RtpPacket): Uint8Array {
  const out = new Uint8Array(rtpSize(pkt));
  writeRtp(pkt, out, 0);
  return out;
}
