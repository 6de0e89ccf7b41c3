/**
 * `/api/frame.mp4`: one keyframe as a complete (progressive, faststart) MP4 file.
 *
 * @module
 */
import type { Codec } from "../../core/codec.ts";
import type { Frame } from "../../core/frame.ts";
import { Mp4FileWriter } from "../../format/mp4/mp4_file_writer.ts";

/**
 * A one-sample MP4 holding `frame`.
 *
 * @throws {Mp4CodecError} the codec cannot be put in MP4.
 * @throws {Mp4EmptyError} the frame is not a usable keyframe (e.g. no parameter sets known).
 * @example
 * ```ts
 * const { codec, frame } = await grabKeyframe(stream, medias);
 * const file = keyframeToMp4(codec, frame);
 * ```
 */
export function keyframeToMp4(codec: Codec, frame: Frame): Uint8Array {
  const writer = new Mp4FileWriter([{ codec }], { layout: "faststart" });
  writer.push(0, frame);
  return writer.finish().data;
}
