/**
 * Joining byte arrays: the one helper for it in strom (muxers, parsers that carry a partial chunk
 * over, tests). Not for a hot path that can write into one preallocated buffer instead.
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
