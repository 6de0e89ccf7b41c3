/**
 * Annex-B byte streams (ITU-T H.264 / H.265 Annex B): NAL units separated by start codes.
 *
 * ```text
 * 00 00 00 01 | NAL unit | 00 00 01 | NAL unit | 00 00 00 01 | NAL unit ...
 * ```
 *
 * Start codes are 3 or 4 bytes (a 4-byte one is a zero_byte + 3-byte start code). Zero bytes right
 * before a start code are trailing_zero_8bits and belong to no NAL unit: a NAL unit never ends in 0x00
 * (H.264 7.4.1, H.265 7.4.2). Emulation prevention bytes (00 00 03) stay untouched: they are part of
 * the NAL unit in both Annex-B and AVCC framing.
 *
 * @module
 */
import { NalFramingError } from "./nal_framing_error.ts";

/**
 * Offset of the next 3-byte start code `00 00 01` at or after `from`, or -1.
 *
 * @example
 * ```ts
 * findStartCode(new Uint8Array([0, 0, 0, 1, 0x67]), 0); // 1
 * ```
 */
export function findStartCode(data: Uint8Array, from: number): number {
  const last = data.length - 3;
  let i = from;
  // Look at the third byte first: anything above 1 there rules out three positions at once.
  while (i <= last) {
    const c = data[i + 2];
    if (c > 1) i += 3;
    else if (c === 1 && data[i + 1] === 0 && data[i] === 0) return i;
    else i++;
  }
  return -1;
}

// Scratch for NAL unit offsets (start, end pairs) so a conversion needs one allocation: the output.
let scratch = new Int32Array(64);

/** Records NAL unit [start, end) as pair `n` after trimming trailing zeros; returns the new count. */
function addNal(data: Uint8Array, n: number, start: number, end: number): number {
  while (end > start && data[end - 1] === 0) end--;
  if (end <= start) return n;
  if (n * 2 + 2 > scratch.length) {
    const bigger = new Int32Array(scratch.length * 2);
    bigger.set(scratch);
    scratch = bigger;
  }
  scratch[n * 2] = start;
  scratch[n * 2 + 1] = end;
  return n + 1;
}

/** Writes start/end pairs of every NAL unit into `scratch`, returns the pair count. */
function scanNals(data: Uint8Array): number {
  let sc = findStartCode(data, 0);
  // Bytes before the first start code: leading zeros, or a bare NAL unit handed in without a start
  // code, which is kept rather than silently dropped.
  let n = addNal(data, 0, 0, sc < 0 ? data.length : sc);
  while (sc >= 0) {
    const start = sc + 3;
    sc = findStartCode(data, start);
    n = addNal(data, n, start, sc < 0 ? data.length : sc);
  }
  return n;
}

/**
 * Iterates over the NAL units of an Annex-B buffer as views into it (no copy). Bytes before the first
 * start code, when not just zeros, are yielded as a NAL unit too.
 *
 * @example
 * ```ts
 * for (const nal of splitAnnexb(bytes)) console.log(nal[0] & 0x1f);
 * ```
 */
export function* splitAnnexb(data: Uint8Array): Generator<Uint8Array, void, undefined> {
  let sc = findStartCode(data, 0);
  let start = 0;
  for (;;) {
    let end = sc < 0 ? data.length : sc;
    while (end > start && data[end - 1] === 0) end--;
    if (end > start) yield data.subarray(start, end);
    if (sc < 0) return;
    start = sc + 3;
    sc = findStartCode(data, start);
  }
}

/**
 * Converts an Annex-B buffer (3- or 4-byte start codes) into AVCC (4-byte big-endian length before
 * each NAL unit). Always returns a new buffer.
 *
 * @example
 * ```ts
 * annexbToAvcc(new Uint8Array([0, 0, 1, 0x65, 0x88])); // [0, 0, 0, 2, 0x65, 0x88]
 * ```
 */
export function annexbToAvcc(data: Uint8Array): Uint8Array {
  const n = scanNals(data);
  let size = 0;
  for (let i = 0; i < n; i++) size += 4 + scratch[i * 2 + 1] - scratch[i * 2];
  const out = new Uint8Array(size);
  let p = 0;
  for (let i = 0; i < n; i++) {
    const start = scratch[i * 2];
    const len = scratch[i * 2 + 1] - start;
    out[p] = len >>> 24;
    out[p + 1] = (len >>> 16) & 0xff;
    out[p + 2] = (len >>> 8) & 0xff;
    out[p + 3] = len & 0xff;
    out.set(data.subarray(start, start + len), p + 4);
    p += 4 + len;
  }
  return out;
}

/**
 * Converts AVCC (4-byte length prefixes) into Annex-B with 4-byte start codes. Always returns a new
 * buffer of the same size.
 *
 * @throws {NalFramingError} when a length prefix runs past the end of the data.
 * @example
 * ```ts
 * avccToAnnexb(new Uint8Array([0, 0, 0, 2, 0x65, 0x88])); // [0, 0, 0, 1, 0x65, 0x88]
 * ```
 */
export function avccToAnnexb(data: Uint8Array): Uint8Array {
  const out = data.slice();
  let p = 0;
  while (p < out.length) {
    if (p + 4 > out.length) throw new NalFramingError(p, data.length, "a 4-byte length prefix is cut short");
    const len = ((out[p] << 24) | (out[p + 1] << 16) | (out[p + 2] << 8) | out[p + 3]) >>> 0;
    if (p + 4 + len > out.length) {
      throw new NalFramingError(p, data.length, `length ${len} runs past the end`);
    }
    out[p] = 0;
    out[p + 1] = 0;
    out[p + 2] = 0;
    out[p + 3] = 1;
    p += 4 + len;
  }
  return out;
}
