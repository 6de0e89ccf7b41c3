/**
 * JPEG marker walking (ITU-T T.81 annex B): just enough to find the frame size, sampling factors,
 * quantization and Huffman tables, restart interval and where the entropy-coded scan starts, which is
 * what RTP packetization (RFC 2435) and snapshot sizing need. No decoding.
 *
 * ```text
 * FFD8 SOI | FFEn APPn | FFDB DQT | FFC0 SOF0 | FFC4 DHT | FFDD DRI | FFDA SOS | scan data ... | FFD9 EOI
 *            each segment: marker (2) + length (2, includes itself) + body
 * ```
 *
 * @module
 */

/** JPEG marker codes (second byte after 0xFF). */
export const JpegMarker = {
  SOI: 0xd8,
  EOI: 0xd9,
  SOF0: 0xc0,
  SOF1: 0xc1,
  SOF2: 0xc2,
  DHT: 0xc4,
  DQT: 0xdb,
  DRI: 0xdd,
  SOS: 0xda,
  APP0: 0xe0,
} as const;

/** One image component from the SOF segment. */
export interface JpegComponent {
  id: number;
  /** Horizontal sampling factor (1..4). */
  h: number;
  /** Vertical sampling factor (1..4). */
  v: number;
  /** Quantization table id (0..3). */
  tq: number;
}

/** One quantization table from a DQT segment, values in zig-zag order as stored. */
export interface JpegQuantTable {
  id: number;
  /** 0: 8-bit values (64 bytes); 1: 16-bit big-endian values (128 bytes). */
  precision: number;
  /** The raw table bytes. */
  values: Uint8Array;
}

/**
 * What {@link parseJpeg} found.
 *
 * @example
 * ```ts
 * const info = parseJpeg(jpeg);
 * const scan = jpeg.subarray(info.scanStart, info.scanEnd);
 * ```
 */
export interface JpegInfo {
  width: number;
  height: number;
  /** The SOF marker: 0xC0 baseline, 0xC1 extended, 0xC2 progressive... */
  sofMarker: number;
  /** Sample precision in bits (8 for baseline). */
  precision: number;
  components: JpegComponent[];
  /** Tables by id (0..3), the last definition of each id. */
  quantTables: (JpegQuantTable | undefined)[];
  /** Bodies of the DHT segments (without marker and length). */
  huffmanSegments: Uint8Array[];
  /** Restart interval in MCUs from DRI, 0 when absent. */
  restartInterval: number;
  /** Offset of the first byte of entropy-coded data (after the SOS header). */
  scanStart: number;
  /** Offset of the EOI marker, or the end of the data when EOI is missing. */
  scanEnd: number;
}

/** Bytes that are not a JPEG this module can read. */
export class JpegParseError extends RangeError {
  override name = "JpegParseError";
  readonly offset: number;
  constructor(offset: number, reason: string) {
    super(`Cannot parse JPEG at byte ${offset}: ${reason}`);
    this.offset = offset;
  }
}

function isSof(m: number): boolean {
  return m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
}

/**
 * Walks the JPEG headers up to the first scan. Throws {@link JpegParseError} on a missing SOI, a
 * segment that runs past the end, or no SOF/SOS.
 *
 * @example
 * ```ts
 * const { width, height, components } = parseJpeg(bytes);
 * ```
 */
export function parseJpeg(bytes: Uint8Array): JpegInfo {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== JpegMarker.SOI) {
    throw new JpegParseError(0, "no SOI marker (FF D8); not a JPEG");
  }
  const info: JpegInfo = {
    width: 0,
    height: 0,
    sofMarker: 0,
    precision: 0,
    components: [],
    quantTables: [],
    huffmanSegments: [],
    restartInterval: 0,
    scanStart: 0,
    scanEnd: bytes.length,
  };
  let p = 2;
  for (;;) {
    if (p >= bytes.length) throw new JpegParseError(p, "ended before the SOS marker");
    if (bytes[p] !== 0xff) {
      throw new JpegParseError(p, `expected a marker (FF), found ${bytes[p].toString(16)}`);
    }
    let m = bytes[p + 1];
    while (m === 0xff && p + 2 < bytes.length) m = bytes[++p + 1]; // fill bytes
    if (m === JpegMarker.SOI || (m >= 0xd0 && m <= 0xd7) || m === 0x01) {
      p += 2;
      continue;
    }
    if (m === JpegMarker.EOI) throw new JpegParseError(p, "EOI before any scan");
    if (p + 4 > bytes.length) throw new JpegParseError(p, "segment header runs past the end");
    const len = (bytes[p + 2] << 8) | bytes[p + 3];
    const start = p + 4;
    const end = p + 2 + len;
    if (len < 2 || end > bytes.length) {
      throw new JpegParseError(
        p,
        `segment FF${m.toString(16).toUpperCase()} of ${len} bytes runs past the end`,
      );
    }
    const body = bytes.subarray(start, end);
    if (m === JpegMarker.DQT) {
      for (let q = 0; q < body.length;) {
        const precision = body[q] >> 4;
        const id = body[q] & 0x0f;
        const size = precision ? 128 : 64;
        if (q + 1 + size > body.length || id > 3) throw new JpegParseError(start + q, "bad DQT table");
        info.quantTables[id] = { id, precision, values: body.subarray(q + 1, q + 1 + size) };
        q += 1 + size;
      }
    } else if (isSof(m)) {
      if (body.length < 6) throw new JpegParseError(p, "SOF segment too short");
      info.sofMarker = m;
      info.precision = body[0];
      info.height = (body[1] << 8) | body[2];
      info.width = (body[3] << 8) | body[4];
      const n = body[5];
      if (body.length < 6 + n * 3) {
        throw new JpegParseError(p, `SOF lists ${n} components but is ${len} bytes`);
      }
      for (let i = 0; i < n; i++) {
        const c = body.subarray(6 + i * 3, 9 + i * 3);
        info.components.push({ id: c[0], h: c[1] >> 4, v: c[1] & 0x0f, tq: c[2] });
      }
    } else if (m === JpegMarker.DHT) {
      info.huffmanSegments.push(body);
    } else if (m === JpegMarker.DRI) {
      if (body.length < 2) throw new JpegParseError(p, "DRI segment too short");
      info.restartInterval = (body[0] << 8) | body[1];
    } else if (m === JpegMarker.SOS) {
      if (!info.sofMarker) throw new JpegParseError(p, "SOS before any SOF");
      info.scanStart = end;
      break;
    }
    p = end;
  }
  const n = bytes.length;
  if (n >= 2 && bytes[n - 2] === 0xff && bytes[n - 1] === JpegMarker.EOI) info.scanEnd = n - 2;
  return info;
}

/**
 * Width and height from the SOF segment, or undefined when the bytes are not a readable JPEG.
 * Never throws.
 *
 * @example
 * ```ts
 * parseJpegSize(frame.data); // { width: 320, height: 240 }
 * ```
 */
export function parseJpegSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== JpegMarker.SOI) return undefined;
  let p = 2;
  while (p + 4 <= bytes.length) {
    if (bytes[p] !== 0xff) return undefined;
    const m = bytes[p + 1];
    if (m === 0xff) {
      p++;
      continue;
    }
    if (m === JpegMarker.SOI || (m >= 0xd0 && m <= 0xd7) || m === 0x01) {
      p += 2;
      continue;
    }
    if (m === JpegMarker.EOI || m === JpegMarker.SOS) return undefined;
    const len = (bytes[p + 2] << 8) | bytes[p + 3];
    if (isSof(m)) {
      if (p + 9 > bytes.length) return undefined;
      return { height: (bytes[p + 5] << 8) | bytes[p + 6], width: (bytes[p + 7] << 8) | bytes[p + 8] };
    }
    if (len < 2) return undefined;
    p += 2 + len;
  }
  return undefined;
}
