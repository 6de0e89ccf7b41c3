/**
 * The parts of a JPEG that RFC 2435 leaves out of RTP and the receiver must rebuild: quantization
 * tables from the Q factor (appendix A), the standard Huffman tables (ITU-T T.81 annex K.3, which
 * RFC 2435 mandates), and the headers around the scan (appendix B).
 *
 * @module
 */

/** Natural (row-major) index of each zig-zag position (ITU-T T.81 figure A.6). */
export const ZIGZAG: readonly number[] = [
  0,
  1,
  8,
  16,
  9,
  2,
  3,
  10,
  17,
  24,
  32,
  25,
  18,
  11,
  4,
  5,
  12,
  19,
  26,
  33,
  40,
  48,
  41,
  34,
  27,
  20,
  13,
  6,
  7,
  14,
  21,
  28,
  35,
  42,
  49,
  56,
  57,
  50,
  43,
  36,
  29,
  22,
  15,
  23,
  30,
  37,
  44,
  51,
  58,
  59,
  52,
  45,
  38,
  31,
  39,
  46,
  53,
  60,
  61,
  54,
  47,
  55,
  62,
  63,
];

/** ITU-T T.81 table K.1, luminance quantization, natural order. */
const LUMA_QUANT = [
  16,
  11,
  10,
  16,
  24,
  40,
  51,
  61,
  12,
  12,
  14,
  19,
  26,
  58,
  60,
  55,
  14,
  13,
  16,
  24,
  40,
  57,
  69,
  56,
  14,
  17,
  22,
  29,
  51,
  87,
  80,
  62,
  18,
  22,
  37,
  56,
  68,
  109,
  103,
  77,
  24,
  35,
  55,
  64,
  81,
  104,
  113,
  92,
  49,
  64,
  78,
  87,
  103,
  121,
  120,
  101,
  72,
  92,
  95,
  98,
  112,
  100,
  103,
  99,
];

/** ITU-T T.81 table K.2, chrominance quantization, natural order. */
const CHROMA_QUANT = [
  17,
  18,
  24,
  47,
  99,
  99,
  99,
  99,
  18,
  21,
  26,
  66,
  99,
  99,
  99,
  99,
  24,
  26,
  56,
  99,
  99,
  99,
  99,
  99,
  47,
  66,
  99,
  99,
  99,
  99,
  99,
  99,
  ...new Array(32).fill(99),
];

/**
 * The luma and chroma quantization tables for an RFC 2435 Q factor 1..99 (appendix A, the same
 * scaling libjpeg applies for `-quality`), 64 bytes each in zig-zag order, concatenated.
 *
 * @example
 * ```ts
 * makeQuantTables(50); // the T.81 example tables unscaled
 * ```
 */
export function makeQuantTables(q: number): Uint8Array {
  const factor = Math.min(99, Math.max(1, q));
  const scale = factor < 50 ? Math.floor(5000 / factor) : 200 - factor * 2;
  const out = new Uint8Array(128);
  for (let i = 0; i < 64; i++) {
    out[i] = clampQ(Math.floor((LUMA_QUANT[ZIGZAG[i]] * scale + 50) / 100));
    out[64 + i] = clampQ(Math.floor((CHROMA_QUANT[ZIGZAG[i]] * scale + 50) / 100));
  }
  return out;
}

function clampQ(v: number): number {
  return v < 1 ? 1 : v > 255 ? 255 : v;
}

function hex(s: string): Uint8Array {
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/**
 * Body of a DHT segment with the four standard Huffman tables (T.81 K.3): class/id byte, 16 code
 * length counts, symbols; luma DC (0x00), luma AC (0x10), chroma DC (0x01), chroma AC (0x11).
 */
export const STANDARD_HUFFMAN_TABLES: Uint8Array = hex(
  "00" + "00010501010101010100000000000000" + "000102030405060708090a0b" +
    "10" + "0002010303020403050504040000017d" +
    "01020300041105122131410613516107227114328191a1082342b1c11552d1f02433627282090a161718191a25262728292a3435" +
    "363738393a434445464748494a535455565758595a636465666768696a737475767778797a838485868788898a929394959697" +
    "98999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3" +
    "f4f5f6f7f8f9fa" +
    "01" + "00030101010101010101010000000000" + "000102030405060708090a0b" +
    "11" + "00020102040403040705040400010277" +
    "000102031104052131061241510761711322328108144291a1b1c109233352f0156272d10a162434e125f11718191a26272829" +
    "2a35363738393a434445464748494a535455565758595a636465666768696a737475767778797a82838485868788898a9293" +
    "9495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae2e3e4e5e6e7e8e9" +
    "eaf2f3f4f5f6f7f8f9fa",
);

/** Parameters of the headers rebuilt around an RFC 2435 scan. */
export interface Rfc2435HeaderOptions {
  /** RFC 2435 type without the restart bit: 0 = 4:2:2 (Y 2x1), 1 = 4:2:0 (Y 2x2). */
  type: number;
  width: number;
  height: number;
  /**
   * Quantization tables in zig-zag order: one or two tables (luma, chroma), 64 bytes each when 8-bit;
   * with `precision` bit i set, table i is 128 bytes of 16-bit values.
   */
  quant: Uint8Array;
  precision?: number;
  /** Restart interval in MCUs (types 64..127), 0 for none. */
  restartInterval?: number;
}

/**
 * Builds SOI, JFIF APP0, DQT, SOF0, DHT, optional DRI and SOS: everything before the scan data.
 *
 * @example
 * ```ts
 * const head = buildJpegHeader({ type: 1, width: 320, height: 240, quant: makeQuantTables(50) });
 * const jpeg = concat(head, scan, EOI);
 * ```
 */
export function buildJpegHeader(o: Rfc2435HeaderOptions): Uint8Array {
  const precision = o.precision ?? 0;
  // Split the table bytes into tables: 64 or 128 bytes each depending on the precision bit.
  const tables: { p: number; bytes: Uint8Array }[] = [];
  for (let off = 0, i = 0; off < o.quant.length && i < 4; i++) {
    const size = precision & (1 << i) ? 128 : 64;
    if (off + size > o.quant.length) break;
    tables.push({ p: precision & (1 << i) ? 1 : 0, bytes: o.quant.subarray(off, off + size) });
    off += size;
  }
  if (tables.length === 0) {
    throw new RangeError(
      `RFC 2435 header needs at least one 64-byte quantization table, got ${o.quant.length} bytes`,
    );
  }
  const dqtLen = 2 + tables.reduce((n, t) => n + 1 + t.bytes.length, 0);
  const restart = o.restartInterval ?? 0;
  const size = 2 + 18 + (2 + dqtLen) + 19 + (4 + STANDARD_HUFFMAN_TABLES.length) + (restart ? 6 : 0) + 14;
  const out = new Uint8Array(size);
  let p = 0;
  const put = (...b: number[]) => {
    for (const x of b) out[p++] = x;
  };
  put(0xff, 0xd8);
  // JFIF APP0: version 1.1, no density units, 1:1, no thumbnail. Tells decoders the data is YCbCr.
  put(0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0);
  put(0xff, 0xdb, dqtLen >> 8, dqtLen & 0xff);
  tables.forEach((t, i) => {
    put((t.p << 4) | i);
    out.set(t.bytes, p);
    p += t.bytes.length;
  });
  const chromaTable = tables.length > 1 ? 1 : 0;
  const ySampling = (o.type & 0x3f) === 0 ? 0x21 : 0x22;
  put(0xff, 0xc0, 0, 17, 8, o.height >> 8, o.height & 0xff, o.width >> 8, o.width & 0xff, 3);
  put(1, ySampling, 0, 2, 0x11, chromaTable, 3, 0x11, chromaTable);
  const dhtLen = 2 + STANDARD_HUFFMAN_TABLES.length;
  put(0xff, 0xc4, dhtLen >> 8, dhtLen & 0xff);
  out.set(STANDARD_HUFFMAN_TABLES, p);
  p += STANDARD_HUFFMAN_TABLES.length;
  if (restart) put(0xff, 0xdd, 0, 4, restart >> 8, restart & 0xff);
  // SOS: 3 components, Y uses Huffman tables 0/0, Cb and Cr 1/1; full spectral range, no approximation.
  put(0xff, 0xda, 0, 12, 3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0);
  return out;
}
