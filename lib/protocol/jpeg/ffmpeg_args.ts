/**
 * ffmpeg arguments for turning H.264/H.265 into JPEG: the input side (raw Annex-B on stdin) and the
 * picture options of `/api/frame.jpeg` and `/api/stream.mjpeg` (`width`/`w`, `height`/`h`,
 * `rotate`).
 *
 * @module
 */

/** Picture options of a JPEG output. */
export interface JpegPictureOptions {
  /** Output width in pixels; with only one of width/height the other keeps the aspect ratio. */
  width?: number;
  height?: number;
  /** Clockwise rotation: 90, 180 or 270 degrees. */
  rotate?: 0 | 90 | 180 | 270;
  /** ffmpeg's `-q:v` (2 best .. 31 worst). Default 5. */
  quality?: number;
}

/**
 * Reads `width`/`w`, `height`/`h` and `rotate` from a query (invalid values are ignored, as go2rtc does).
 *
 * @example
 * ```ts
 * jpegPictureOptions(new URLSearchParams("w=320&rotate=90")); // { width: 320, rotate: 90 }
 * ```
 */
export function jpegPictureOptions(query: URLSearchParams): JpegPictureOptions {
  const out: JpegPictureOptions = {};
  const int = (v: string | null) => {
    const n = v === null ? NaN : Number(v);
    return Number.isInteger(n) && n > 0 && n <= 16384 ? n : undefined;
  };
  const width = int(query.get("width") ?? query.get("w"));
  const height = int(query.get("height") ?? query.get("h"));
  if (width) out.width = width;
  if (height) out.height = height;
  const rotate = Number(query.get("rotate"));
  if (rotate === 90 || rotate === 180 || rotate === 270) out.rotate = rotate;
  return out;
}

/**
 * The `-vf` filter chain for the options, or undefined when none is needed. Scaling uses -1 for the
 * missing side (keep aspect); rotation is `transpose` (90: clockwise, 270: counter-clockwise) or
 * `hflip,vflip` for 180.
 *
 * @example
 * ```ts
 * jpegFilter({ width: 320, rotate: 90 }); // "scale=320:-1,transpose=1"
 * ```
 */
export function jpegFilter(o: JpegPictureOptions): string | undefined {
  const filters: string[] = [];
  if (o.width || o.height) filters.push(`scale=${o.width ?? -1}:${o.height ?? -1}`);
  if (o.rotate === 90) filters.push("transpose=1");
  else if (o.rotate === 180) filters.push("hflip,vflip");
  else if (o.rotate === 270) filters.push("transpose=2");
  return filters.length ? filters.join(",") : undefined;
}

/**
 * Full ffmpeg argument list: Annex-B `h264`/`hevc` on stdin, MJPEG on stdout. `frames: 1` makes a
 * one-shot snapshot; otherwise one JPEG per input frame, as fast as they come.
 *
 * @example
 * ```ts
 * jpegFfmpegArgs("h264", { width: 640 }, { frames: 1 });
 * // [..., "-f", "h264", "-i", "-", "-an", "-frames:v", "1", "-vf", "scale=640:-1", ..., "-f", "mjpeg", "-"]
 * ```
 */
export function jpegFfmpegArgs(input: "h264" | "hevc" | "mjpeg", o: JpegPictureOptions, run: { frames?: number } = {}): string[] {
  const args = ["-hide_banner", "-loglevel", "error"];
  if (run.frames === undefined) {
    // Streaming: probe as little as possible so the first JPEG follows the first frame (by default
    // ffmpeg analyses 5 s of a raw stream to guess its frame rate). `-fflags nobuffer` would stall
    // the raw demuxer on a pipe, so it is not used.
    args.push("-flags", "low_delay", "-probesize", "32", "-analyzeduration", "1", "-fpsprobesize", "0");
  }
  args.push("-f", input, "-i", "-", "-an");
  if (run.frames !== undefined) args.push("-frames:v", String(run.frames));
  else args.push("-fps_mode", "passthrough");
  const vf = jpegFilter(o);
  if (vf) args.push("-vf", vf);
  // Full-range YUV (yuvj420p) is what JPEG decoders expect; ffmpeg's mjpeg encoder wants it stated.
  args.push("-pix_fmt", "yuvj420p", "-q:v", String(o.quality ?? 5));
  // Write each JPEG out at once instead of filling a 32 KiB pipe buffer first.
  if (run.frames === undefined) args.push("-flush_packets", "1");
  args.push("-f", "mjpeg", "-");
  return args;
}
