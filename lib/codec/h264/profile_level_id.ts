/**
 * H.264 profile-level-id (RFC 6184 section 8.1) and the RFC 6381 codec string ("avc1.PPCCLL").
 *
 * Both are the three bytes after the SPS header: profile_idc, the constraint flags byte, level_idc.
 *
 * @module
 */
import { H264NalType } from "./nal.ts";

/**
 * The three profile/level bytes of an SPS.
 *
 * @example
 * ```ts
 * const pl: H264ProfileLevel = { profileIdc: 0x42, constraintFlags: 0xe0, levelIdc: 0x1f };
 * ```
 */
export interface H264ProfileLevel {
  profileIdc: number;
  constraintFlags: number;
  levelIdc: number;
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, "0");
}

function checkSps(sps: Uint8Array, fn: string): void {
  if (sps.length < 4 || (sps[0] & 0x1f) !== H264NalType.SPS) {
    throw new TypeError(
      `Cannot read profile from ${sps.length}-byte NAL unit of type ${
        sps.length ? sps[0] & 0x1f : "none"
      } in ${fn}(): ` +
        "pass an H.264 SPS NAL unit (type 7, at least 4 bytes, no start code)",
    );
  }
}

/**
 * profile-level-id as written in SDP fmtp: six lower-case hex digits from an SPS NAL unit.
 *
 * @throws {TypeError} when `sps` is not an SPS NAL unit.
 * @example
 * ```ts
 * h264ProfileLevelId(sps); // "64001f"
 * ```
 */
export function h264ProfileLevelId(sps: Uint8Array): string {
  checkSps(sps, "h264ProfileLevelId");
  return hex2(sps[1]) + hex2(sps[2]) + hex2(sps[3]);
}

/**
 * Parses an fmtp profile-level-id ("42e01f").
 *
 * @throws {SyntaxError} unless the value is six hex digits.
 * @example
 * ```ts
 * parseH264ProfileLevelId("42e01f"); // { profileIdc: 66, constraintFlags: 224, levelIdc: 31 }
 * ```
 */
export function parseH264ProfileLevelId(value: string): H264ProfileLevel {
  const v = value.trim();
  if (!/^[0-9a-fA-F]{6}$/.test(v)) {
    throw new SyntaxError(`Cannot parse profile-level-id "${value}": expected six hex digits such as 42e01f`);
  }
  const n = parseInt(v, 16);
  return { profileIdc: n >> 16, constraintFlags: (n >> 8) & 0xff, levelIdc: n & 0xff };
}

/**
 * Formats a profile-level-id from its three parts.
 *
 * @example
 * ```ts
 * formatH264ProfileLevelId({ profileIdc: 100, constraintFlags: 0, levelIdc: 31 }); // "64001f"
 * ```
 */
export function formatH264ProfileLevelId(pl: H264ProfileLevel): string {
  return hex2(pl.profileIdc & 0xff) + hex2(pl.constraintFlags & 0xff) + hex2(pl.levelIdc & 0xff);
}

/**
 * RFC 6381 codec string for MSE / HLS / WebCodecs: "avc1." + profile-level-id.
 *
 * @throws {TypeError} when `sps` is not an SPS NAL unit.
 * @example
 * ```ts
 * h264CodecString(sps); // "avc1.64001f"
 * ```
 */
export function h264CodecString(sps: Uint8Array): string {
  checkSps(sps, "h264CodecString");
  return "avc1." + h264ProfileLevelId(sps);
}
