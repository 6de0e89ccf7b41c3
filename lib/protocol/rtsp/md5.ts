/**
 * MD5 (RFC 1321), needed by HTTP/RTSP Digest authentication (RFC 2617, RFC 7616). Web Crypto has no
 * MD5, and digest auth must be synchronous inside the request path, so this is a small pure
 * implementation. Not for anything security-sensitive beyond what Digest auth itself is.
 *
 * @module
 */
import { bytesToHex } from "../../core/bytes.ts";

// Per-round shift amounts (RFC 1321 section 3.4).
const S = new Uint8Array([
  7,
  12,
  17,
  22,
  7,
  12,
  17,
  22,
  7,
  12,
  17,
  22,
  7,
  12,
  17,
  22,
  5,
  9,
  14,
  20,
  5,
  9,
  14,
  20,
  5,
  9,
  14,
  20,
  5,
  9,
  14,
  20,
  4,
  11,
  16,
  23,
  4,
  11,
  16,
  23,
  4,
  11,
  16,
  23,
  4,
  11,
  16,
  23,
  6,
  10,
  15,
  21,
  6,
  10,
  15,
  21,
  6,
  10,
  15,
  21,
  6,
  10,
  15,
  21,
]);

// K[i] = floor(abs(sin(i + 1)) * 2^32).
const K = new Uint32Array(64);
for (let i = 0; i < 64; i++) K[i] = Math.floor(Math.abs(Math.sin(i + 1)) * 0x100000000) >>> 0;

const encoder = new TextEncoder();

/**
 * MD5 digest of bytes or a UTF-8 string, as 16 bytes.
 *
 * @example
 * ```ts
 * md5(""); // Uint8Array d4 1d 8c d9 8f 00 b2 04 e9 80 09 98 ec f8 42 7e
 * ```
 */
export function md5(input: Uint8Array | string): Uint8Array {
  const data = typeof input === "string" ? encoder.encode(input) : input;
  const len = data.length;
  // Message + 0x80 + zero padding to 56 mod 64 + 8-byte little-endian bit length.
  const total = (((len + 8) >>> 6) + 1) << 6;
  const buf = new Uint8Array(total);
  buf.set(data);
  buf[len] = 0x80;
  const view = new DataView(buf.buffer);
  const bits = len * 8;
  view.setUint32(total - 8, bits >>> 0, true);
  view.setUint32(total - 4, Math.floor(bits / 0x100000000) >>> 0, true);

  let a0 = 0x67452301, b0 = 0xefcdab89, c0 = 0x98badcfe, d0 = 0x10325476;
  const M = new Uint32Array(16);
  for (let off = 0; off < total; off += 64) {
    for (let j = 0; j < 16; j++) M[j] = view.getUint32(off + j * 4, true);
    let a = a0, b = b0, c = c0, d = d0;
    for (let i = 0; i < 64; i++) {
      let f: number, g: number;
      if (i < 16) {
        f = (b & c) | (~b & d);
        g = i;
      } else if (i < 32) {
        f = (d & b) | (~d & c);
        g = (5 * i + 1) & 15;
      } else if (i < 48) {
        f = b ^ c ^ d;
        g = (3 * i + 5) & 15;
      } else {
        f = c ^ (b | ~d);
        g = (7 * i) & 15;
      }
      const tmp = d;
      d = c;
      c = b;
      const x = (a + f + K[i] + M[g]) | 0;
      b = (b + ((x << S[i]) | (x >>> (32 - S[i])))) | 0;
      a = tmp;
    }
    a0 = (a0 + a) | 0;
    b0 = (b0 + b) | 0;
    c0 = (c0 + c) | 0;
    d0 = (d0 + d) | 0;
  }
  const out = new Uint8Array(16);
  const ov = new DataView(out.buffer);
  ov.setUint32(0, a0 >>> 0, true);
  ov.setUint32(4, b0 >>> 0, true);
  ov.setUint32(8, c0 >>> 0, true);
  ov.setUint32(12, d0 >>> 0, true);
  return out;
}

/**
 * MD5 digest as 32 lower-case hex characters, the form Digest auth uses.
 *
 * @example
 * ```ts
 * md5Hex("abc"); // "900150983cd24fb0d6963f7d28e17f72"
 * ```
 */
export function md5Hex(input: Uint8Array | string): string {
  return bytesToHex(md5(input));
}
