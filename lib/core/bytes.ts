/**
 * Byte helpers shared across strom: joining byte arrays (muxers, parsers that carry a partial chunk
 * over, tests; not for a hot path that can write into one preallocated buffer instead), big-endian
 * writes, hex (fmtp `config=`, digests, random tokens and session ids) and base64 (SDP parameter
 * sets, HTTP and RTSP Basic credentials, go2rtc's base64 WebRTC form, the demo clip).
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
export function concatBytes(parts: readonly Uint8Array[], total?: number): Uint8Array<ArrayBuffer> {
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

/**
 * Encodes bytes as standard base64 with padding (RFC 4648 section 4), on `btoa`, so it runs in every
 * runtime and bundle without `Buffer`.
 *
 * @example
 * ```ts
 * bytesToBase64(new Uint8Array([0x68, 0xef, 0x06])); // "aO8G"
 * bytesToBase64(new TextEncoder().encode("user:pass")); // "dXNlcjpwYXNz"
 * ```
 */
export function bytesToBase64(bytes: Uint8Array): string {
  let s = "";
  // fromCharCode takes its arguments on the stack: at most 32 K of them per call.
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** Options of {@link base64ToBytes}. */
export interface Base64DecodeOptions {
  /**
   * Also accept the URL-safe alphabet (`-` and `_`, RFC 4648 section 5), which some cameras use in
   * SDP parameter sets. Default false: the standard alphabet only.
   */
  lenient?: boolean;
}

/**
 * Decodes base64 into bytes. Missing `=` padding and white space inside are accepted (the
 * "forgiving" decoding of `atob`); anything else outside the alphabet throws a `SyntaxError` that
 * quotes the input (its first 40 characters).
 *
 * @example
 * ```ts
 * base64ToBytes("aO8G"); // Uint8Array [0x68, 0xef, 0x06]
 * base64ToBytes("-_8", { lenient: true }); // Uint8Array [0xfb, 0xff]
 * ```
 */
export function base64ToBytes(text: string, options: Base64DecodeOptions = {}): Uint8Array {
  const input = options.lenient ? text.replace(/-/g, "+").replace(/_/g, "/") : text;
  let s: string;
  try {
    s = atob(input);
  } catch {
    const shown = text.length > 40 ? `${text.slice(0, 40)}...` : text;
    throw new SyntaxError(
      `Cannot decode base64 "${shown}": it has characters outside the base64 alphabet or a wrong length`,
    );
  }
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
