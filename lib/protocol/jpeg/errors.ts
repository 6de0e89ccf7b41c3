/**
 * Errors of the JPEG outputs.
 *
 * @module
 */

/** Why a JPEG could not be made. */
export type JpegErrorCode = "FfmpegMissing" | "UnsupportedCodec" | "EncodeFailed" | "Timeout";

/**
 * A frame could not be turned into JPEG: ffmpeg is missing, the codec is not H.264/H.265/JPEG,
 * ffmpeg failed (its last stderr lines are in the message) or took too long.
 *
 * @example
 * ```ts
 * try { await encodeJpeg(codec, frame); } catch (e) {
 *   if (e instanceof JpegEncodeError && e.code === "FfmpegMissing") console.log("install ffmpeg");
 * }
 * ```
 */
export class JpegEncodeError extends Error {
  override name = "JpegEncodeError";
  readonly code: JpegErrorCode;
  constructor(code: JpegErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
