/**
 * RFC 6381 codec string for H.265 ("hvc1.1.6.L93.B0"), built as ISO/IEC 14496-15 Annex E says.
 *
 * ```text
 * hvc1 . [A|B|C]profile_idc . compatibility flags (bit-reversed, hex) . L|H level_idc . constraint bytes (hex)...
 * ```
 *
 * @module
 */
import { type H265Sps, parseH265Sps } from "./sps.ts";

/** Reverses the 32 bits of `v`: flag 0 (the MSB as coded) becomes bit 0. */
function reverse32(v: number): number {
  let out = 0;
  for (let i = 0; i < 32; i++) {
    out = out * 2 + (v & 1);
    v >>>= 1;
  }
  return out;
}

/**
 * Codec string from a parsed SPS. Trailing zero constraint bytes are left out.
 *
 * @example
 * ```ts
 * h265CodecStringFromSps(parseH265Sps(sps)); // "hvc1.1.6.L93.B0"
 * ```
 */
export function h265CodecStringFromSps(sps: H265Sps, sampleEntry: "hvc1" | "hev1" = "hvc1"): string {
  const space = ["", "A", "B", "C"][sps.profileSpace] ?? "";
  let s =
    `${sampleEntry}.${space}${sps.profileIdc}.${
      reverse32(sps.generalProfileCompatibilityFlags).toString(16).toUpperCase()
    }` +
    `.${sps.tierFlag ? "H" : "L"}${sps.levelIdc}`;
  const c = sps.constraintIndicatorFlags;
  let last = c.length;
  while (last > 0 && c[last - 1] === 0) last--;
  for (let i = 0; i < last; i++) s += "." + c[i].toString(16).toUpperCase();
  return s;
}

/**
 * Codec string for MSE / HLS / WebCodecs from an SPS NAL unit.
 *
 * @throws {BitstreamError} when the SPS cannot be parsed.
 * @example
 * ```ts
 * h265CodecString(sps); // "hvc1.1.6.L93.B0"
 * ```
 */
export function h265CodecString(sps: Uint8Array, sampleEntry: "hvc1" | "hev1" = "hvc1"): string {
  return h265CodecStringFromSps(parseH265Sps(sps), sampleEntry);
}
