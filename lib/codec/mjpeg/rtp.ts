/**
 * JPEG over RTP (RFC 2435). Each packet carries a piece of the entropy-coded scan behind small
 * headers; the receiver rebuilds the JPEG headers (tables, SOF, SOS) from them.
 *
 * ```text
 * Main JPEG header (3.1), every packet:
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Type-specific |              Fragment Offset                  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |      Type     |       Q       |     Width     |     Height    |   (width/height in 8-pixel units)
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * Restart Marker header (3.1.7), types 64..127:
 * |       Restart Interval        |F|L|       Restart Count       |
 * Quantization Table header (3.1.8), Q 128..255, first packet (offset 0) only:
 * |      MBZ      |   Precision   |             Length            |
 * |                    Quantization Table Data                    |
 * ```
 *
 * Type 0 is 4:2:2 (Y 2x1, Cb/Cr 1x1), type 1 is 4:2:0 (Y 2x2); +64 adds restart markers. Q 1..99
 * selects scaled standard tables; Q 128..255 sends tables in band (128..254 may be sent once and
 * cached; 255 changes every frame).
 *
 * @module
 */
import type { Frame } from "../../core/frame.ts";
import type { RtpPacket } from "../../rtp/packet.ts";
import { buildJpegHeader, makeQuantTables, STANDARD_HUFFMAN_TABLES } from "./rfc2435.ts";
import { parseJpeg } from "./jpeg.ts";

const EOI = new Uint8Array([0xff, 0xd9]);

/**
 * RFC 2435 depacketizer: `push(pkt)` returns a complete JPEG {@link Frame} on the packet that ends a
 * frame (marker bit), else undefined. Fragments are placed by their offset and must arrive in order
 * (put a {@link ReorderBuffer} in front on UDP); a gap, a type this format does not define, or a
 * missing table drops the frame and counts in `errors`. Never throws.
 *
 * The frame's `data` is a new buffer (headers + scan + EOI), `timestamp` the RTP timestamp (90 kHz),
 * `packets` all packets of the frame. Interlaced fields (type-specific 1..3) are emitted one field per
 * frame, as sent; sizes above 2040 pixels, which RFC 2435 cannot express, are counted as errors.
 *
 * @example
 * ```ts
 * const depay = new MjpegDepacketizer();
 * const frame = depay.push(pkt); if (frame) receiver.push(frame);
 * ```
 */
export class MjpegDepacketizer {
  errors = 0;
  #buf = new Uint8Array(64 * 1024);
  #len = 0;
  #active = false;
  #timestamp = 0;
  #seq = 0;
  #type = 0;
  #q = 0;
  #width = 0;
  #height = 0;
  #restartInterval = 0;
  #quant: Uint8Array | undefined;
  #precision = 0;
  #packets: RtpPacket[] = [];
  #skipTimestamp: number | undefined;
  /** In-band tables of Q 128..254, which a sender may send only once (RFC 2435 3.1.8). */
  readonly #tableCache = new Map<number, { quant: Uint8Array; precision: number }>();
  /** Tables for Q 1..99, computed once each. */
  readonly #stdCache = new Map<number, Uint8Array>();

  push(pkt: RtpPacket): Frame | undefined {
    const p = pkt.payload;
    if (p.length < 8) return this.#fail();
    const offset = (p[1] << 16) | (p[2] << 8) | p[3];
    const type = p[4];
    const q = p[5];
    const width = p[6] * 8;
    const height = p[7] * 8;
    let pos = 8;
    let restartInterval = 0;
    if ((type & 0x3f) > 1 || type >= 128) return this.#fail();
    if (width === 0 || height === 0) return this.#fail();
    if (type & 0x40) {
      if (p.length < pos + 4) return this.#fail();
      restartInterval = (p[pos] << 8) | p[pos + 1];
      pos += 4;
    }
    if (offset === 0) {
      if (this.#active) this.#drop();
      let quant: Uint8Array | undefined;
      let precision = 0;
      if (q >= 128) {
        if (p.length < pos + 4) return this.#fail();
        precision = p[pos + 1];
        const len = (p[pos + 2] << 8) | p[pos + 3];
        pos += 4;
        if (p.length < pos + len) return this.#fail();
        if (len > 0) {
          quant = p.slice(pos, pos + len);
          if (q < 255) this.#tableCache.set(q, { quant, precision });
        } else {
          const cached = this.#tableCache.get(q);
          if (!cached || q === 255) return this.#fail();
          quant = cached.quant;
          precision = cached.precision;
        }
        pos += len;
      } else {
        quant = this.#stdCache.get(q);
        if (!quant) {
          quant = makeQuantTables(q);
          this.#stdCache.set(q, quant);
        }
      }
      this.#active = true;
      this.#len = 0;
      this.#timestamp = pkt.timestamp;
      this.#type = type;
      this.#q = q;
      this.#width = width;
      this.#height = height;
      this.#restartInterval = restartInterval;
      this.#quant = quant;
      this.#precision = precision;
      this.#packets = [];
    } else {
      // The rest of a frame already given up on: one loss counts once.
      if (!this.#active && pkt.timestamp === this.#skipTimestamp) return undefined;
      const continues = this.#active && pkt.timestamp === this.#timestamp &&
        pkt.sequenceNumber === ((this.#seq + 1) & 0xffff) && offset === this.#len && type === this.#type &&
        q === this.#q;
      if (!continues) {
        if (this.#active) this.#drop();
        else this.errors++;
        this.#skipTimestamp = pkt.timestamp;
        return undefined;
      }
    }
    this.#append(p.subarray(pos));
    this.#seq = pkt.sequenceNumber;
    this.#packets.push(pkt);
    if (!pkt.marker) return undefined;
    return this.#finish();
  }

  #finish(): Frame | undefined {
    this.#active = false;
    let header: Uint8Array;
    try {
      header = buildJpegHeader({
        type: this.#type,
        width: this.#width,
        height: this.#height,
        quant: this.#quant!,
        precision: this.#precision,
        restartInterval: this.#restartInterval,
      });
    } catch {
      return this.#fail();
    }
    const scan = this.#buf.subarray(0, this.#len);
    const hasEoi = this.#len >= 2 && scan[this.#len - 2] === 0xff && scan[this.#len - 1] === 0xd9;
    const data = new Uint8Array(header.length + this.#len + (hasEoi ? 0 : 2));
    data.set(header);
    data.set(scan, header.length);
    if (!hasEoi) data.set(EOI, header.length + this.#len);
    const frame: Frame = { timestamp: this.#timestamp, keyframe: true, data, packets: this.#packets };
    this.#packets = [];
    this.#len = 0;
    return frame;
  }

  #append(data: Uint8Array): void {
    if (this.#len + data.length > this.#buf.length) {
      const grown = new Uint8Array(Math.max(this.#buf.length * 2, this.#len + data.length));
      grown.set(this.#buf.subarray(0, this.#len));
      this.#buf = grown;
    }
    this.#buf.set(data, this.#len);
    this.#len += data.length;
  }

  #drop(): void {
    this.errors++;
    this.#skipTimestamp = this.#timestamp;
    this.#active = false;
    this.#len = 0;
    this.#packets = [];
  }

  #fail(): undefined {
    if (this.#active) this.#drop();
    else this.errors++;
    return undefined;
  }
}

/** Options of {@link MjpegPacketizer}. */
export interface MjpegPacketizerOptions {
  /** 26 is the static payload type of JPEG (RFC 3551). */
  payloadType?: number;
  ssrc: number;
  /** First sequence number (random by default). */
  sequenceNumber?: number;
  /** Largest RTP payload in bytes (default 1400). */
  maxPayloadSize?: number;
}

/** Why a JPEG cannot be sent with RFC 2435. */
export class MjpegPacketizeError extends RangeError {
  override name = "MjpegPacketizeError";
  constructor(reason: string) {
    super(`Cannot packetize JPEG for RTP (RFC 2435): ${reason}`);
  }
}

/**
 * RFC 2435 packetizer: `packetize(frame)` returns the RTP packets of one JPEG (timestamp =
 * `frame.timestamp`, 90 kHz; marker on the last). Accepts baseline YCbCr JPEGs with 4:2:2 (Y 2x1) or
 * 4:2:0 (Y 2x2) sampling, standard Huffman tables (or none, as many webcams send), up to 2040x2040.
 * Tables equal to a standard Q 1..99 set are signalled by Q alone; others go in band with Q 255.
 * A restart interval becomes type 64/65 with F=L=1, count 0x3FFF (3.1.7: not aligned to packets).
 *
 * A JPEG it cannot carry returns no packets and counts in `errors`; `lastError` says why. Use
 * {@link MjpegPacketizer.check} to test up front (throws).
 *
 * @example
 * ```ts
 * const pay = new MjpegPacketizer({ ssrc: 1 });
 * for (const pkt of pay.packetize({ timestamp: 90000, keyframe: true, data: jpeg })) send(pkt);
 * ```
 */
export class MjpegPacketizer {
  readonly payloadType: number;
  readonly ssrc: number;
  readonly maxPayloadSize: number;
  errors = 0;
  lastError: MjpegPacketizeError | undefined;
  #seq: number;
  /** Last tables seen and the Q they map to (255 = in band), to skip the search on steady streams. */
  #lastTables: Uint8Array | undefined;
  #lastQ = 255;

  constructor(opts: MjpegPacketizerOptions) {
    this.payloadType = opts.payloadType ?? 26;
    this.ssrc = opts.ssrc >>> 0;
    this.maxPayloadSize = Math.max(128, opts.maxPayloadSize ?? 1400);
    this.#seq = (opts.sequenceNumber ?? Math.floor(Math.random() * 0x10000)) & 0xffff;
  }

  /**
   * Parses a JPEG and returns the RFC 2435 parameters for it; throws {@link MjpegPacketizeError}
   * when it cannot be carried.
   *
   * @example
   * ```ts
   * MjpegPacketizer.check(jpeg).type; // 1 (4:2:0)
   * ```
   */
  static check(jpeg: Uint8Array): {
    type: number;
    width: number;
    height: number;
    restartInterval: number;
    quant: Uint8Array;
    precision: number;
    scanStart: number;
    scanEnd: number;
  } {
    let info;
    try {
      info = parseJpeg(jpeg);
    } catch (e) {
      throw new MjpegPacketizeError((e as Error).message);
    }
    if (info.sofMarker !== 0xc0 && info.sofMarker !== 0xc1) {
      throw new MjpegPacketizeError(
        `SOF marker FF${info.sofMarker.toString(16).toUpperCase()} is not baseline`,
      );
    }
    if (info.precision !== 8) throw new MjpegPacketizeError(`${info.precision}-bit samples (needs 8)`);
    const [y, cb, cr] = info.components;
    if (info.components.length !== 3) {
      throw new MjpegPacketizeError(`${info.components.length} components (needs 3, YCbCr)`);
    }
    let type: number;
    if (y.h === 2 && y.v === 1) type = 0;
    else if (y.h === 2 && y.v === 2) type = 1;
    else throw new MjpegPacketizeError(`luma sampling ${y.h}x${y.v} (needs 2x1 or 2x2)`);
    if (cb.h !== 1 || cb.v !== 1 || cr.h !== 1 || cr.v !== 1) {
      throw new MjpegPacketizeError(`chroma sampling ${cb.h}x${cb.v}/${cr.h}x${cr.v} (needs 1x1)`);
    }
    if (cb.tq !== cr.tq) throw new MjpegPacketizeError("Cb and Cr use different quantization tables");
    for (const seg of info.huffmanSegments) {
      if (!isStandardHuffman(seg)) throw new MjpegPacketizeError("non-standard (optimized) Huffman tables");
    }
    if (info.width > 2040 || info.height > 2040) {
      throw new MjpegPacketizeError(`${info.width}x${info.height} exceeds 2040x2040`);
    }
    const yq = info.quantTables[y.tq];
    const cq = info.quantTables[cb.tq];
    if (!yq || !cq) throw new MjpegPacketizeError("a component refers to a missing quantization table");
    let quant: Uint8Array;
    let precision = yq.precision ? 1 : 0;
    if (y.tq === cb.tq) {
      quant = yq.values;
    } else {
      quant = new Uint8Array(yq.values.length + cq.values.length);
      quant.set(yq.values);
      quant.set(cq.values, yq.values.length);
      if (cq.precision) precision |= 2;
    }
    return {
      type: type | (info.restartInterval ? 64 : 0),
      width: info.width,
      height: info.height,
      restartInterval: info.restartInterval,
      quant,
      precision,
      scanStart: info.scanStart,
      scanEnd: info.scanEnd,
    };
  }

  packetize(frame: Frame): RtpPacket[] {
    let c;
    try {
      c = MjpegPacketizer.check(frame.data);
    } catch (e) {
      this.errors++;
      this.lastError = e as MjpegPacketizeError;
      return [];
    }
    const q = this.#qFor(c.quant, c.precision);
    const scan = frame.data.subarray(c.scanStart, c.scanEnd);
    const restart = c.type & 64 ? 4 : 0;
    const out: RtpPacket[] = [];
    let offset = 0;
    while (offset < scan.length || offset === 0) {
      const tables = offset === 0 && q >= 128 ? 4 + c.quant.length : 0;
      const room = this.maxPayloadSize - 8 - restart - tables;
      if (room <= 0) {
        this.errors++;
        this.lastError = new MjpegPacketizeError(
          `quantization tables do not fit in ${this.maxPayloadSize}-byte packets`,
        );
        return [];
      }
      const n = Math.min(room, scan.length - offset);
      const payload = new Uint8Array(8 + restart + tables + n);
      payload[1] = offset >> 16;
      payload[2] = (offset >> 8) & 0xff;
      payload[3] = offset & 0xff;
      payload[4] = c.type;
      payload[5] = q;
      payload[6] = Math.ceil(c.width / 8);
      payload[7] = Math.ceil(c.height / 8);
      let p = 8;
      if (restart) {
        payload[p] = c.restartInterval >> 8;
        payload[p + 1] = c.restartInterval & 0xff;
        payload[p + 2] = 0xff; // F=1, L=1, count 0x3FFF: intervals not aligned with packets
        payload[p + 3] = 0xff;
        p += 4;
      }
      if (tables) {
        payload[p + 1] = c.precision;
        payload[p + 2] = c.quant.length >> 8;
        payload[p + 3] = c.quant.length & 0xff;
        payload.set(c.quant, p + 4);
        p += 4 + c.quant.length;
      }
      payload.set(scan.subarray(offset, offset + n), p);
      offset += n;
      out.push({
        payloadType: this.payloadType,
        sequenceNumber: this.#seq,
        timestamp: frame.timestamp >>> 0,
        ssrc: this.ssrc,
        marker: offset >= scan.length,
        payload,
      });
      this.#seq = (this.#seq + 1) & 0xffff;
      if (n === 0) break;
    }
    return out;
  }

  /** Q 1..99 when the tables are exactly a standard scaled pair, else 255 (tables in band). */
  #qFor(quant: Uint8Array, precision: number): number {
    if (this.#lastTables && equalBytes(this.#lastTables, quant)) return this.#lastQ;
    let q = 255;
    if (precision === 0 && quant.length === 128) {
      for (let candidate = 1; candidate <= 99; candidate++) {
        if (equalBytes(makeQuantTables(candidate), quant)) {
          q = candidate;
          break;
        }
      }
    }
    this.#lastTables = quant.slice();
    this.#lastQ = q;
    return q;
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether a DHT segment body only (re)defines standard tables (T.81 K.3). */
function isStandardHuffman(seg: Uint8Array): boolean {
  let p = 0;
  while (p < seg.length) {
    if (p + 17 > seg.length) return false;
    const tc = seg[p];
    let n = 0;
    for (let i = 1; i <= 16; i++) n += seg[p + i];
    const table = seg.subarray(p, p + 17 + n);
    if (table.length !== 17 + n || !containsTable(table, tc)) return false;
    p += 17 + n;
  }
  return true;
}

/** Whether the standard table with the same class/id byte equals `table`. */
function containsTable(table: Uint8Array, tc: number): boolean {
  const std = STANDARD_HUFFMAN_TABLES;
  let p = 0;
  while (p < std.length) {
    let n = 0;
    for (let i = 1; i <= 16; i++) n += std[p + i];
    if (std[p] === tc) return equalBytes(std.subarray(p, p + 17 + n), table);
    p += 17 + n;
  }
  return false;
}
