/**
 * HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 section 8.3.3.1): the H.265 parameter sets as
 * stored in MP4 `hvcC` boxes and in enhanced-RTMP/FLV `hvc1` sequence headers.
 *
 * ```text
 * u8   configurationVersion = 1
 * 2b general_profile_space | 1b general_tier_flag | 5b general_profile_idc
 * u32  general_profile_compatibility_flags
 * u48  general_constraint_indicator_flags
 * u8   general_level_idc
 * 4b 1111   | 12b min_spatial_segmentation_idc
 * 6b 111111 | 2b parallelismType
 * 6b 111111 | 2b chromaFormat
 * 5b 11111  | 3b bitDepthLumaMinus8
 * 5b 11111  | 3b bitDepthChromaMinus8
 * u16  avgFrameRate
 * 2b constantFrameRate | 3b numTemporalLayers | 1b temporalIdNested | 2b lengthSizeMinusOne
 * u8   numOfArrays
 *   { 1b array_completeness | 1b 0 | 6b NAL_unit_type | u16 numNalus | { u16 len | NAL unit } ... } ...
 * ```
 *
 * The 12 bytes from general_profile_space to general_level_idc are the general part of the SPS's
 * profile_tier_level() (H.265 7.3.3), copied as they are.
 *
 * @module
 */
import { parseH265Sps } from "../../codec/h265/sps.ts";
import { DecoderConfigError } from "./avc_decoder_config.ts";

/**
 * H.265 NAL unit types of parameter sets (H.265 Table 7-1).
 *
 * @example
 * ```ts
 * if (((nal[0] >> 1) & 0x3f) === HevcNalType.SPS) learnSps(nal);
 * ```
 */
export const HevcNalType = { VPS: 32, SPS: 33, PPS: 34, AUD: 35, SEI_PREFIX: 39 } as const;

/** The content of an HEVCDecoderConfigurationRecord. */
export interface HevcDecoderConfig {
  /** Bytes of each NAL unit length prefix (1, 2 or 4). */
  lengthSize: number;
  vps: Uint8Array[];
  sps: Uint8Array[];
  pps: Uint8Array[];
  /** Other NAL arrays (e.g. SEI), by NAL unit type. */
  other: { type: number; nals: Uint8Array[] }[];
}

/**
 * Builds an HEVCDecoderConfigurationRecord (4-byte NAL lengths).
 *
 * @throws {RangeError} when no SPS is given; `BitstreamError` when the SPS cannot be parsed.
 * @example
 * ```ts
 * const hvcC = buildHevcDecoderConfig([vps], [sps], [pps]);
 * ```
 */
export function buildHevcDecoderConfig(
  vps: readonly Uint8Array[],
  sps: readonly Uint8Array[],
  pps: readonly Uint8Array[],
): Uint8Array {
  if (!sps[0]) throw new RangeError("Cannot build hvcC: an SPS NAL unit is required");
  const info = parseH265Sps(sps[0]);
  const arrays: [number, readonly Uint8Array[]][] = [
    [HevcNalType.VPS, vps],
    [HevcNalType.SPS, sps],
    [HevcNalType.PPS, pps],
  ];
  let size = 23;
  for (const [, nals] of arrays) {
    if (!nals.length) continue;
    size += 3;
    for (const n of nals) size += 2 + n.length;
  }
  const out = new Uint8Array(size);
  out[0] = 1;
  // The general profile_tier_level fields, in their SPS bit layout.
  out[1] = (info.profileSpace << 6) | (info.tierFlag << 5) | info.profileIdc;
  const compat = info.generalProfileCompatibilityFlags >>> 0;
  out[2] = compat >>> 24;
  out[3] = (compat >>> 16) & 0xff;
  out[4] = (compat >>> 8) & 0xff;
  out[5] = compat & 0xff;
  out.set(info.constraintIndicatorFlags.subarray(0, 6), 6);
  out[12] = info.levelIdc;
  out[13] = 0xf0; // min_spatial_segmentation_idc = 0
  out[14] = 0x00;
  out[15] = 0xfc; // parallelismType = 0 (unknown)
  out[16] = 0xfc | (info.chromaFormatIdc & 3);
  out[17] = 0xf8 | ((info.bitDepthLuma - 8) & 7);
  out[18] = 0xf8 | ((info.bitDepthChroma - 8) & 7);
  out[19] = 0; // avgFrameRate = 0 (unspecified)
  out[20] = 0;
  out[21] = ((info.maxSubLayers & 7) << 3) | (info.temporalIdNesting ? 4 : 0) | 3;
  let p = 23;
  let count = 0;
  for (const [type, nals] of arrays) {
    if (!nals.length) continue;
    count++;
    out[p] = 0x80 | type; // array_completeness = 1: all sets of this type are here
    out[p + 1] = nals.length >> 8;
    out[p + 2] = nals.length & 0xff;
    p += 3;
    for (const n of nals) {
      out[p] = n.length >> 8;
      out[p + 1] = n.length & 0xff;
      out.set(n, p + 2);
      p += 2 + n.length;
    }
  }
  out[22] = count;
  return out;
}

/**
 * Parses an HEVCDecoderConfigurationRecord.
 *
 * @throws {DecoderConfigError} when the record is truncated or its version is not 1.
 * @example
 * ```ts
 * const { vps, sps, pps } = parseHevcDecoderConfig(hvcC);
 * ```
 */
export function parseHevcDecoderConfig(data: Uint8Array): HevcDecoderConfig {
  if (data.length < 23) {
    throw new DecoderConfigError("hvcC", 0, `needs at least 23 bytes, got ${data.length}`);
  }
  if (data[0] !== 1) {
    throw new DecoderConfigError("hvcC", 0, `configurationVersion is ${data[0]}, expected 1`);
  }
  const cfg: HevcDecoderConfig = { lengthSize: (data[21] & 3) + 1, vps: [], sps: [], pps: [], other: [] };
  const arrays = data[22];
  let p = 23;
  for (let a = 0; a < arrays; a++) {
    if (p + 3 > data.length) throw new DecoderConfigError("hvcC", p, `array ${a} header is cut short`);
    const type = data[p] & 0x3f;
    const n = (data[p + 1] << 8) | data[p + 2];
    p += 3;
    const nals: Uint8Array[] = [];
    for (let i = 0; i < n; i++) {
      if (p + 2 > data.length) {
        throw new DecoderConfigError("hvcC", p, `NAL ${i} of array ${a} length is cut short`);
      }
      const len = (data[p] << 8) | data[p + 1];
      if (p + 2 + len > data.length) {
        throw new DecoderConfigError("hvcC", p, `NAL ${i} of ${len} bytes runs past the end`);
      }
      nals.push(data.slice(p + 2, p + 2 + len));
      p += 2 + len;
    }
    if (type === HevcNalType.VPS) cfg.vps.push(...nals);
    else if (type === HevcNalType.SPS) cfg.sps.push(...nals);
    else if (type === HevcNalType.PPS) cfg.pps.push(...nals);
    else cfg.other.push({ type, nals });
  }
  return cfg;
}
