/**
 * Keyframe detection on AVCC H.264 access units.
 *
 * @module
 */
import { H264NalType } from "./nal.ts";

/**
 * Whether an AVCC access unit holds an IDR slice (a point where decoding can start). Walks the
 * length prefixes by offset; stops at the first malformed one.
 *
 * @example
 * ```ts
 * if (isH264Keyframe(frame.data)) gop.reset();
 * ```
 */
export function isH264Keyframe(avcc: Uint8Array): boolean {
  let p = 0;
  while (p + 5 <= avcc.length) {
    const len = ((avcc[p] << 24) | (avcc[p + 1] << 16) | (avcc[p + 2] << 8) | avcc[p + 3]) >>> 0;
    if (len > 0 && (avcc[p + 4] & 0x1f) === H264NalType.IDR) return true;
    p += 4 + len;
  }
  return false;
}
