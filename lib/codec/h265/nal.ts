/**
 * H.265 NAL unit types (ITU-T H.265 Table 7-1) and the RTP payload types of RFC 7798 section 4.4.
 *
 * The NAL unit header is two bytes (H.265 7.3.1.2, RFC 7798 1.1.4):
 *
 * ```text
 * +---------------+---------------+
 * |0|1|2|3|4|5|6|7|0|1|2|3|4|5|6|7|
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |F|   Type    |  LayerId  | TID |
 * +-------------+-----------------+
 * ```
 *
 * @module
 */

/**
 * NAL unit type numbers. 48..50 exist only in RTP payloads (RFC 7798).
 *
 * @example
 * ```ts
 * if (h265NalType(nal) === H265NalType.SPS) parseH265Sps(nal);
 * ```
 */
export const H265NalType = {
  TRAIL_N: 0,
  TRAIL_R: 1,
  TSA_N: 2,
  TSA_R: 3,
  STSA_N: 4,
  STSA_R: 5,
  RADL_N: 6,
  RADL_R: 7,
  RASL_N: 8,
  RASL_R: 9,
  /** IRAP pictures (16..23, of which 22 and 23 reserved): points where decoding can start. */
  BLA_W_LP: 16,
  BLA_W_RADL: 17,
  BLA_N_LP: 18,
  IDR_W_RADL: 19,
  IDR_N_LP: 20,
  CRA_NUT: 21,
  VPS: 32,
  SPS: 33,
  PPS: 34,
  /** Access unit delimiter. */
  AUD: 35,
  EOS: 36,
  EOB: 37,
  FD: 38,
  PREFIX_SEI: 39,
  SUFFIX_SEI: 40,
  /** Aggregation packet (RFC 7798 4.4.2). */
  AP: 48,
  /** Fragmentation unit (RFC 7798 4.4.3). */
  FU: 49,
  /** PACI packet (RFC 7798 4.4.4). */
  PACI: 50,
} as const;

/**
 * The type of a NAL unit from its first header byte.
 *
 * @example
 * ```ts
 * h265NalType(new Uint8Array([0x42, 0x01])); // 33 (SPS)
 * ```
 */
export function h265NalType(nal: Uint8Array): number {
  return (nal[0] >> 1) & 0x3f;
}

/**
 * Whether a NAL unit type is an IRAP picture (BLA, IDR, CRA: types 16..21), i.e. a keyframe.
 *
 * @example
 * ```ts
 * isH265Irap(19); // true (IDR_W_RADL)
 * ```
 */
export function isH265Irap(type: number): boolean {
  return type >= H265NalType.BLA_W_LP && type <= H265NalType.CRA_NUT;
}
