/**
 * AVCC framing (ISO/IEC 14496-15): each NAL unit preceded by its size as a 4-byte big-endian number.
 * This is the layout of `Frame.data` for H.264 and H.265 in strom.
 *
 * ```text
 * +--------+--------+--------+--------+----------------+--------+-- ...
 * |        length (4 bytes, BE)       | NAL unit bytes | length | NAL unit ...
 * +--------+--------+--------+--------+----------------+--------+-- ...
 * ```
 *
 * @module
 */
import { NalFramingError } from "./nal_framing_error.ts";

/**
 * Iterates over the NAL units of AVCC data as views into it (no copy).
 *
 * @throws {NalFramingError} when a length prefix runs past the end (raised when reached).
 * @example
 * ```ts
 * for (const nal of splitAvcc(frame.data)) console.log(nal[0] & 0x1f);
 * ```
 */
export function* splitAvcc(data: Uint8Array): Generator<Uint8Array, void, undefined> {
  let p = 0;
  while (p < data.length) {
    const end = avccNalEnd(data, p);
    yield data.subarray(p + 4, end);
    p = end;
  }
}

/**
 * End offset (exclusive) of the AVCC NAL unit whose length prefix starts at `offset`. Lets hot paths
 * walk AVCC by offset without an iterator: `for (let p = 0; p < d.length; p = avccNalEnd(d, p))`,
 * the NAL unit being `d.subarray(p + 4, avccNalEnd(d, p))`.
 *
 * @throws {NalFramingError} when the prefix or the NAL unit runs past the end.
 * @example
 * ```ts
 * avccNalEnd(new Uint8Array([0, 0, 0, 1, 0x09]), 0); // 5
 * ```
 */
export function avccNalEnd(data: Uint8Array, offset: number): number {
  if (offset + 4 > data.length) {
    throw new NalFramingError(offset, data.length, "a 4-byte length prefix is cut short");
  }
  const len =
    ((data[offset] << 24) | (data[offset + 1] << 16) | (data[offset + 2] << 8) | data[offset + 3]) >>> 0;
  const end = offset + 4 + len;
  if (end > data.length) throw new NalFramingError(offset, data.length, `length ${len} runs past the end`);
  return end;
}

/**
 * Joins NAL units (without start codes) into one AVCC buffer.
 *
 * @example
 * ```ts
 * joinAvcc([sps, pps, idr]); // [len][sps][len][pps][len][idr]
 * ```
 */
export function joinAvcc(nals: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const nal of nals) size += 4 + nal.length;
  const out = new Uint8Array(size);
  let p = 0;
  for (const nal of nals) {
    writeAvccLength(out, p, nal.length);
    out.set(nal, p + 4);
    p += 4 + nal.length;
  }
  return out;
}

/**
 * Writes a 4-byte big-endian NAL unit length at `offset`.
 *
 * @example
 * ```ts
 * writeAvccLength(buf, 0, nal.length);
 * ```
 */
export function writeAvccLength(out: Uint8Array, offset: number, length: number): void {
  out[offset] = length >>> 24;
  out[offset + 1] = (length >>> 16) & 0xff;
  out[offset + 2] = (length >>> 8) & 0xff;
  out[offset + 3] = length & 0xff;
}
