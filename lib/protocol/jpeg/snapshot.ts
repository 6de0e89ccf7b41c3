/**
 * `/api/frame.jpeg`: one H.264/H.265 keyframe turned into a JPEG by a one-shot
 * `ffmpeg -f h264 -i - -frames:v 1 -f mjpeg -`, fed the frame as Annex-B.
 *
 * @module
 */
import type { Codec } from "../../core/codec.ts";
import type { Frame } from "../../core/frame.ts";
import { spawn, SpawnError } from "../../runtime/process.ts";
import { frameToAnnexb, rawDemuxerOf } from "./annexb_frame.ts";
import { JpegEncodeError } from "./errors.ts";
import { jpegFfmpegArgs, jpegFilter, type JpegPictureOptions } from "./ffmpeg_args.ts";
import { readAll, StderrTail } from "./_process_io.ts";

/** Options of {@link encodeJpeg}. */
export interface EncodeJpegOptions extends JpegPictureOptions {
  /** The ffmpeg binary. Default `ffmpeg` (from PATH). */
  ffmpegBin?: string;
  /** Kill ffmpeg and fail after this long. Default 10 s. */
  timeoutMs?: number;
}

const MAX_JPEG = 32 * 1024 * 1024;

/**
 * Encodes one keyframe as JPEG. A JPEG frame without picture options is returned as is.
 *
 * @throws {JpegEncodeError} `FfmpegMissing`, `UnsupportedCodec`, `EncodeFailed` or `Timeout`.
 * @example
 * ```ts
 * const { codec, frame } = await grabKeyframe(stream, medias);
 * const jpeg = await encodeJpeg(codec, frame, { width: 320 });
 * ```
 */
export async function encodeJpeg(codec: Codec, frame: Frame, options: EncodeJpegOptions = {}): Promise<Uint8Array> {
  let input: "h264" | "hevc" | "mjpeg" | undefined = rawDemuxerOf(codec);
  let data: Uint8Array;
  if (codec.name.toUpperCase() === "JPEG") {
    if (!jpegFilter(options)) return frame.data;
    input = "mjpeg";
    data = frame.data;
  } else if (input) {
    data = frameToAnnexb(codec, frame);
  } else {
    throw new JpegEncodeError("UnsupportedCodec", `Cannot make a JPEG from ${codec.name}: only H264, H265 and JPEG video can be snapshotted`);
  }
  const bin = options.ffmpegBin || "ffmpeg";
  const timeoutMs = options.timeoutMs ?? 10_000;
  let child;
  try {
    child = spawn(bin, jpegFfmpegArgs(input, options, { frames: 1 }), { stdin: "pipe", stdout: "pipe", stderr: "pipe", timeoutMs });
  } catch (error) {
    if (error instanceof SpawnError && error.code === "NotFound") {
      throw new JpegEncodeError(
        "FfmpegMissing",
        `Cannot make a JPEG from ${codec.name}: ffmpeg ("${bin}") was not found. Install ffmpeg or set ffmpeg.bin in the config.`,
        { cause: error },
      );
    }
    throw new JpegEncodeError("EncodeFailed", `Cannot start ffmpeg ("${bin}"): ${(error as Error).message}`, { cause: error });
  }
  const stderr = new StderrTail(child.stderr);
  try {
    const output = readAll(child.stdout!, MAX_JPEG);
    const writer = child.stdin!.getWriter();
    try {
      await writer.write(data);
      await writer.close();
    } catch { /* ffmpeg exited early; its stderr says why */ }
    const [jpeg, status] = await Promise.all([output, child.exited]);
    await stderr.done;
    if (status.timedOut) throw new JpegEncodeError("Timeout", `ffmpeg took longer than ${timeoutMs} ms to encode a JPEG snapshot`);
    if (jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8) {
      throw new JpegEncodeError(
        "EncodeFailed",
        `ffmpeg made no JPEG from a ${codec.name} keyframe (exit ${status.code ?? status.signal})` +
          (stderr.toString() ? `: ${stderr}` : ""),
      );
    }
    return jpeg;
  } finally {
    child.kill("SIGKILL");
  }
}
