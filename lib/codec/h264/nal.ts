/**
 * H.264 NAL unit types (ITU-T H.264 Table 7-1) and the RTP payload types of RFC 6184 section 5.4.
 *
 * ```text
 * +---------------+
 * |0|1|2|3|4|5|6|7|
 * +-+-+-+-+-+-+-+-+
 * |F|NRI|  Type   |
 * +---------------+
 * ```
 *
 * @module
 */

/**
 * NAL unit type numbers. 1..23 are H.264 NAL units; 24..29 exist only in RTP payloads (RFC 6184).
 *
 * @example
 * ```ts
 * if (h264NalType(nal) === H264NalType.IDR) console.log("keyframe");
 * ```
 */
export const H264NalType = {
  /** Coded slice of a non-IDR picture. */
  SLICE: 1,
  SLICE_DPA: 2,
  SLICE_DPB: 3,
  SLICE_DPC: 4,
  /** Coded slice of an IDR picture: a keyframe. */
  IDR: 5,
  SEI: 6,
  SPS: 7,
  PPS: 8,
  /** Access unit delimiter. */
  AUD: 9,
  END_OF_SEQUENCE: 10,
  END_OF_STREAM: 11,
  FILLER: 12,
  SPS_EXT: 13,
  PREFIX: 14,
  SUBSET_SPS: 15,
  SLICE_AUX: 19,
  SLICE_EXT: 20,
  /** Single-time aggregation packet (RFC 6184 5.7.1). */
  STAP_A: 24,
  STAP_B: 25,
  MTAP16: 26,
  MTAP24: 27,
  /** Fragmentation unit without DON (RFC 6184 5.8). */
  FU_A: 28,
  FU_B: 29,
} as const;

/**
 * The type of a NAL unit from its header byte.
 *
 * @example
 * ```ts
 * h264NalType(new Uint8Array([0x67])); // 7 (SPS)
 * ```
 */
export function h264NalType(nal: Uint8Array): number {
  return nal[0] & 0x1f;
}
