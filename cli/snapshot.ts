/**
 * `strom snapshot <src> -o out.jpg`: waits for the first video keyframe of a source and writes it
 * as a JPEG, through a one-shot `ffmpeg -f h264|hevc -i - -frames:v 1 -f mjpeg -` fed Annex-B
 * (JPEG sources are written as they are unless resized).
 *
 * @module
 */
import { writeStderr, writeStdoutAndWait } from "../lib/runtime/host.ts";
import { Command } from "commander";
import type { Media } from "../lib/core/media.ts";
import { CodecMismatchError } from "../lib/core/errors.ts";
import { parseJpegSize } from "../lib/codec/mjpeg/jpeg.ts";
import { grabKeyframe, KeyframeTimeoutError } from "../lib/protocol/http/keyframe.ts";
import { encodeJpeg } from "../lib/protocol/jpeg/snapshot.ts";
import { JpegEncodeError } from "../lib/protocol/jpeg/errors.ts";
import { writeFile } from "../lib/runtime/fs.ts";
import { CliError } from "./errors.ts";
import { onInterrupt } from "./interrupt.ts";
import { configOption, parsePositiveInt, parseSeconds, timeoutOption } from "./options.ts";
import { formatBytes } from "./record.ts";
import { openSources, withTimeout } from "./sources.ts";

/** Video codecs a snapshot can be made from. */
const SNAPSHOT_MEDIAS: Media[] = [{
  kind: "video",
  direction: "sendonly",
  codecs: [{ name: "H264", clockRate: 0 }, { name: "H265", clockRate: 0 }, { name: "JPEG", clockRate: 0 }],
}];

/** Options of the `snapshot` subcommand. */
interface SnapshotCliOptions {
  output: string;
  width?: string;
  height?: string;
  quality?: string;
  timeout: string;
  ffmpeg?: string;
  config: string[];
}

/**
 * The `snapshot` subcommand.
 *
 * @example
 * ```ts
 * program.addCommand(snapshotCommand());
 * ```
 */
export function snapshotCommand(): Command {
  return new Command("snapshot")
    .description("write the first video keyframe of a source as a JPEG (needs ffmpeg for H.264/H.265)")
    .argument("<src>", 'source URL ("demo:", "rtsp://...") or a stream name of the config')
    .requiredOption("-o, --output <file>", "JPEG file to write (- for stdout)")
    .option("--width <pixels>", "scale to this width (keeps the aspect ratio without --height)")
    .option("--height <pixels>", "scale to this height (keeps the aspect ratio without --width)")
    .option("-q, --quality <2-31>", "JPEG quality, ffmpeg -q:v (2 best, 31 worst)", "5")
    .addOption(
      timeoutOption(10, "give up when no keyframe arrived within this many seconds (connecting included)"),
    )
    .option("--ffmpeg <path>", "ffmpeg binary (default: ffmpeg.bin of the config, else ffmpeg on PATH)")
    .addOption(configOption())
    .addHelpText(
      "after",
      `
Examples:
  strom snapshot demo: -o demo.jpg
  strom snapshot rtsp://admin:pass@192.168.1.10/stream1 -o door.jpg --width 640
  strom snapshot front_door -c strom.yaml -o - > door.jpg

Exit code 1 with a one-line reason when the source cannot be reached, sends no keyframe in time,
has no H.264/H.265/JPEG video, or ffmpeg is missing.`,
    )
    .action(async (src: string, opts: SnapshotCliOptions) => {
      const timeoutMs = parseSeconds("--timeout", opts.timeout) * 1000;
      const width = opts.width !== undefined ? parsePositiveInt("--width", opts.width) : undefined;
      const height = opts.height !== undefined ? parsePositiveInt("--height", opts.height) : undefined;
      const quality = parsePositiveInt("--quality", opts.quality ?? "5", 31);
      if (quality < 2) {
        throw new CliError(`Invalid --quality "${opts.quality}": expected 2 (best) to 31 (worst).`);
      }
      const sources = await openSources({ config: opts.config, dialTimeoutMs: timeoutMs });
      const interrupt = onInterrupt();
      const giveUp = new AbortController();
      const started = performance.now();
      try {
        const stream = sources.stream(src);
        let grabbed;
        try {
          grabbed = await withTimeout(
            grabKeyframe(stream, SNAPSHOT_MEDIAS, {
              timeoutMs,
              noCache: true,
              signal: giveUp.signal,
              peer: { protocol: "cli" },
            }),
            timeoutMs,
            `waiting for a video keyframe from "${src}"`,
            interrupt.signal,
          );
        } catch (error) {
          giveUp.abort();
          if (error instanceof KeyframeTimeoutError) {
            throw new CliError(
              `No video keyframe from "${src}" within ${
                timeoutMs / 1000
              } s; the source may be down or send ` +
                `keyframes rarely. Raise --timeout, or check it with "strom probe".`,
            );
          }
          if (error instanceof CodecMismatchError) {
            throw new CliError(
              `"${src}" has no H.264, H.265 or JPEG video to snapshot (it offers ${
                error.offered.join(", ") || "nothing"
              }).`,
            );
          }
          throw error;
        }
        const keyframeMs = performance.now() - started;
        let jpeg: Uint8Array;
        try {
          jpeg = await encodeJpeg(grabbed.codec, grabbed.frame, {
            width,
            height,
            quality,
            ffmpegBin: opts.ffmpeg ??
              (typeof sources.ffmpeg.bin === "string" ? sources.ffmpeg.bin : undefined),
            timeoutMs,
          });
        } catch (error) {
          if (error instanceof JpegEncodeError) throw new CliError(error.message);
          throw error;
        }
        if (opts.output === "-") {
          await writeStdoutAndWait(jpeg);
        } else {
          try {
            await writeFile(opts.output, jpeg);
          } catch (error) {
            throw new CliError(`Cannot write "${opts.output}": ${(error as Error).message}`);
          }
        }
        const size = parseJpegSize(jpeg);
        writeStderr(
          `wrote ${opts.output === "-" ? "stdout" : opts.output}: ${
            size ? `${size.width}x${size.height}, ` : ""
          }` +
            `${formatBytes(jpeg.length)} (${grabbed.codec.name} keyframe after ${
              (keyframeMs / 1000).toFixed(2)
            } s)\n`,
        );
      } finally {
        interrupt.dispose();
        await sources.close();
      }
    });
}
