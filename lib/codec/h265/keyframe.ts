/**
 * Keyframe detection on AVCC H.265 access units.
 *
 * @module
 */
import { isH265Irap } from "./nal.ts";

/**
 * Whether an AVCC access unit holds an IRAP picture (BLA, IDR or CRA: NAL unit types 16..21).
 * Walks the length prefixes by offset; stops at the first malformed one.
 *
 * @example
 * ```ts
 * if (isH265Keyframe(frame.data)) gop.reset();
 * ```
 */
export function isH265Keyframe(avcc: Uint8Array): boolean {
  let p = 0;
  while (p + 5 <= avcc.length) {
    const len = ((avcc[p] << 24) | (avcc[p + 1] << 16) | (avcc[p + 2] << 8) | avcc[p + 3]) >>> 0;
    if (len > 0 && isH265Irap((avcc[p + 4] >> 1) & 0x3f)) return true;
    p += 4 + len;
  }
  return false;
}
