/**
 * AVCDecoderConfigurationRecord (ISO/IEC 14496-15 section 5.3.3.1): the H.264 parameter sets as
 * stored in MP4 `avcC` boxes and in FLV/RTMP AVC sequence headers.
 *
 * ```text
 * u8  configurationVersion = 1
 * u8  AVCProfileIndication       (SPS byte 1)
 * u8  profile_compatibility      (SPS byte 2)
 * u8  AVCLevelIndication         (SPS byte 3)
 * 6b  reserved 111111 | 2b lengthSizeMinusOne (3: 4-byte NAL lengths)
 * 3b  reserved 111    | 5b numOfSequenceParameterSets
 *     { u16 length | SPS NAL unit } ...
 * u8  numOfPictureParameterSets
 *     { u16 length | PPS NAL unit } ...
 * -- only for profile_idc 100, 110, 122, 144:
 * 6b 111111 | 2b chroma_format   5b 11111 | 3b bit_depth_luma_minus8
 * 5b 11111  | 3b bit_depth_chroma_minus8   u8 numOfSequenceParameterSetExt
 * ```
 *
 * @module
 */
import { parseH264Sps } from "../../codec/h264/sps.ts";

/** The content of an AVCDecoderConfigurationRecord. */
export interface AvcDecoderConfig {
  profileIdc: number;
  profileCompatibility: number;
  levelIdc: number;
  /** Bytes of each NAL unit length prefix (1, 2 or 4). */
  lengthSize: number;
  sps: Uint8Array[];
  pps: Uint8Array[];
}

/**
 * Thrown when a decoder configuration record (avcC / hvcC) is malformed.
 *
 * @example
 * ```ts
 * try { parseAvcDecoderConfig(bytes); } catch (e) { if (e instanceof DecoderConfigError) console.log(e.offset); }
 * ```
 */
export class DecoderConfigError extends SyntaxError {
  override name = "DecoderConfigError";
  /** Which record: "avcC" or "hvcC". */
  readonly record: string;
  /** Byte offset in the record. */
  readonly offset: number;
  constructor(record: string, offset: number, message: string) {
    super(`Cannot parse ${record} at byte ${offset}: ${message}`);
    this.record = record;
    this.offset = offset;
  }
}

const HIGH_PROFILES_WITH_EXT = new Set([100, 110, 122, 144]);

/**
 * Builds an AVCDecoderConfigurationRecord (4-byte NAL lengths) from SPS and PPS NAL units.
 *
 * @throws {RangeError} when no SPS is given or the SPS is shorter than 4 bytes.
 * @example
 * ```ts
 * const avcC = buildAvcDecoderConfig([sps], [pps]);
 * ```
 */
export function buildAvcDecoderConfig(sps: readonly Uint8Array[], pps: readonly Uint8Array[]): Uint8Array {
  const first = sps[0];
  if (!first || first.length < 4) {
    throw new RangeError(
      "Cannot build avcC: an SPS NAL unit of at least 4 bytes is required (got none or a truncated one)",
    );
  }
  let ext: Uint8Array | undefined;
  if (HIGH_PROFILES_WITH_EXT.has(first[1])) {
    try {
      const info = parseH264Sps(first);
      ext = new Uint8Array([
        0xfc | (info.chromaFormatIdc & 3),
        0xf8 | ((info.bitDepthLuma - 8) & 7),
        0xf8 | ((info.bitDepthChroma - 8) & 7),
        0,
      ]);
    } catch {
      // A SPS we cannot parse still works without the optional extension.
    }
  }
  let size = 7 + (ext?.length ?? 0);
  for (const n of sps) size += 2 + n.length;
  for (const n of pps) size += 2 + n.length;
  const out = new Uint8Array(size);
  out[0] = 1;
  out[1] = first[1];
  out[2] = first[2];
  out[3] = first[3];
  out[4] = 0xfc | 3;
  out[5] = 0xe0 | (sps.length & 0x1f);
  let p = 6;
  for (const n of sps) {
    out[p] = n.length >> 8;
    out[p + 1] = n.length & 0xff;
    out.set(n, p + 2);
    p += 2 + n.length;
  }
  out[p++] = pps.length & 0xff;
  for (const n of pps) {
    out[p] = n.length >> 8;
    out[p + 1] = n.length & 0xff;
    out.set(n, p + 2);
    p += 2 + n.length;
  }
  if (ext) out.set(ext, p);
  return out;
}

/**
 * Parses an AVCDecoderConfigurationRecord.
 *
 * @throws {DecoderConfigError} when the record is truncated or its version is not 1.
 * @example
 * ```ts
 * const { sps, pps, lengthSize } = parseAvcDecoderConfig(avcC);
 * ```
 */
export function parseAvcDecoderConfig(data: Uint8Array): AvcDecoderConfig {
  if (data.length < 7) throw new DecoderConfigError("avcC", 0, `needs at least 7 bytes, got ${data.length}`);
  if (data[0] !== 1) {
    throw new DecoderConfigError("avcC", 0, `configurationVersion is ${data[0]}, expected 1`);
  }
  const cfg: AvcDecoderConfig = {
    profileIdc: data[1],
    profileCompatibility: data[2],
    levelIdc: data[3],
    lengthSize: (data[4] & 3) + 1,
    sps: [],
    pps: [],
  };
  let p = 5;
  const readSets = (count: number, into: Uint8Array[], what: string) => {
    for (let i = 0; i < count; i++) {
      if (p + 2 > data.length) throw new DecoderConfigError("avcC", p, `${what} ${i} length is cut short`);
      const len = (data[p] << 8) | data[p + 1];
      if (p + 2 + len > data.length) {
        throw new DecoderConfigError("avcC", p, `${what} ${i} of ${len} bytes runs past the end`);
      }
      into.push(data.slice(p + 2, p + 2 + len));
      p += 2 + len;
    }
  };
  readSets(data[p++] & 0x1f, cfg.sps, "SPS");
  if (p >= data.length) throw new DecoderConfigError("avcC", p, "numOfPictureParameterSets is missing");
  readSets(data[p++], cfg.pps, "PPS");
  return cfg;
}
