/**
 * An access unit delimiter as a frame of its own (AVCC), for H.264 (NAL type 9, H.264 7.3.2.4) and
 * H.265 (NAL type 35, H.265 7.3.2.5). Outputs end the last frame of a source that is down with it:
 * ffmpeg's H.264/H.265 parsers finish a frame only when the next access unit starts.
 *
 * @module
 */
import { CodecName } from "../../core/codec.ts";

/**
 * An access unit delimiter NAL unit (AVCC, any picture type: `primary_pic_type` / `pic_type` 7 and
 * 2) for an H.264 or H.265 track; undefined for other codecs. A new array each call.
 *
 * @example
 * ```ts
 * accessUnitDelimiter("H264"); // Uint8Array [0, 0, 0, 2, 0x09, 0xf0]
 * accessUnitDelimiter("OPUS"); // undefined
 * ```
 */
export function accessUnitDelimiter(codec: string): Uint8Array | undefined {
  if (codec === CodecName.H264) return new Uint8Array([0, 0, 0, 2, 0x09, 0xf0]);
  if (codec === CodecName.H265) return new Uint8Array([0, 0, 0, 3, 0x46, 0x01, 0x50]);
  return undefined;
}
