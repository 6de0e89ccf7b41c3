/**
 * Byte helpers shared across strom: joining byte arrays (muxers, parsers that carry a partial chunk
 * over, tests; not for a hot path that can write into one preallocated buffer instead), big-endian
 * writes, and hex (fmtp `config=`, digests, random tokens and session ids).
 *
 * @module
 */

/**
 * The parts one after another in a new array (`total`, when the caller already knows the sum of
 * their lengths, saves a pass).
 *
 * @example
 * ```ts
 * concatBytes([new Uint8Array([1, 2]), new Uint8Array([3])]); // Uint8Array [1, 2, 3]
 * ```
 */
export function concatBytes(parts: readonly Uint8Array[], total?: number): Uint8Array {
  let n = total ?? 0;
  if (total === undefined) for (let i = 0; i < parts.length; i++) n += parts[i].length;
  const out = new Uint8Array(n);
  let o = 0;
  for (let i = 0; i < parts.length; i++) {
    out.set(parts[i], o);
    o += parts[i].length;
  }
  return out;
}

/**
 * Writes `value` as an unsigned 32-bit big-endian integer at `offset` (network order: RTP, RTMP).
 * For hot paths on a plain `Uint8Array`, where a `DataView` per buffer would be an allocation.
 *
 * @example
 * ```ts
 * const b = new Uint8Array(4);
 * writeU32BE(b, 0, 0x01020304); // b is [1, 2, 3, 4]
 * ```
 */
export function writeU32BE(out: Uint8Array, offset: number, value: number): void {
  out[offset] = value >>> 24;
  out[offset + 1] = (value >>> 16) & 0xff;
  out[offset + 2] = (value >>> 8) & 0xff;
  out[offset + 3] = value & 0xff;
}

const HEX_DIGITS = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/**
 * Encodes bytes as lower-case hex, two digits per byte.
 *
 * @example
 * ```ts
 * bytesToHex(new Uint8Array([0x12, 0x10])); // "1210"
 * ```
 */
export function bytesToHex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += HEX_DIGITS[bytes[i]];
  return s;
}

/**
 * `byteCount` bytes from the Web Crypto random source as lower-case hex (2 x `byteCount` digits):
 * nonces, tokens, session ids and unguessable paths.
 *
 * @example
 * ```ts
 * randomHex(8); // e.g. "3f9a0c17d2b48e65"
 * ```
 */
export function randomHex(byteCount: number): string {
  return bytesToHex(crypto.getRandomValues(new Uint8Array(byteCount)));
}
