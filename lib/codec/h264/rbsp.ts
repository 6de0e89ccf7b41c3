/**
 * NAL unit payload to RBSP: removal of emulation prevention bytes (H.264 7.4.1, H.265 7.4.2).
 *
 * An encoder inserts 0x03 after every `00 00` that is followed by a byte <= 3, so that no start code
 * can appear inside a NAL unit. Bitstream parsers (SPS, slice headers) read the RBSP, with those
 * bytes removed.
 *
 * @module
 */

/**
 * Returns the NAL unit with every emulation prevention byte (the 03 of `00 00 03`) removed. Returns
 * the input itself when it has none (no copy).
 *
 * @example
 * ```ts
 * nalToRbsp(new Uint8Array([0x67, 0, 0, 3, 1])); // [0x67, 0, 0, 1]
 * ```
 */
export function nalToRbsp(nal: Uint8Array): Uint8Array {
  let first = -1;
  for (let i = 2; i < nal.length; i++) {
    if (nal[i] === 3 && nal[i - 1] === 0 && nal[i - 2] === 0) {
      first = i;
      break;
    }
  }
  if (first < 0) return nal;
  const out = new Uint8Array(nal.length);
  out.set(nal.subarray(0, first));
  let n = first;
  let zeros = 0;
  for (let i = first + 1; i < nal.length; i++) {
    const b = nal[i];
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    zeros = b === 0 ? zeros + 1 : 0;
    out[n++] = b;
  }
  return out.subarray(0, n);
}
