/**
 * `#hardware[=engine]`: rewrites a software encode (libx264, libx265, mjpeg) into a hardware one,
 * adds the matching `-hwaccel` decode options to the input and swaps the filters for their hardware
 * versions, as go2rtc's `hardware.MakeHardware` does.
 *
 * @module
 */

/** Hardware engines, by the name used in `#hardware=<engine>` and in `<codec>/<engine>` templates. */
export type HardwareEngine = "vaapi" | "cuda" | "dxva2" | "videotoolbox" | "v4l2m2m" | "rkmpp" | "software";

/** Codecs whose encoder can be moved to hardware. */
export type HardwareCodec = "h264" | "h265" | "mjpeg";

/**
 * Picks the engine for a codec when `#hardware` has no value. Probing means running ffmpeg, so the
 * caller probes once (at startup, or lazily) and hands in a synchronous lookup. Return `undefined`
 * or `"software"` to keep the software encoder.
 */
export type HardwareProbe = (codec: HardwareCodec) => string | undefined;

/** The parts of an ffmpeg command that hardware rewriting touches (mutated in place). */
export interface HardwareArgs {
  input: string;
  codecs: string[];
  filters: string[];
}

function hasFilter(filters: string[], ...prefixes: string[]): boolean {
  return filters.some((f) => prefixes.some((p) => f.startsWith(p)));
}

// The name of the encoder in a codec line: "-c:v libx264 -g 50 ..." -> "libx264".
function encoderOf(codec: string): string {
  const parts = codec.split(" ");
  return parts.length > 1 ? parts[1] : "";
}

/**
 * H.264 from VAAPI must leave in limited-range bt709 (yuv420p), not full-range (yuvj420p, which
 * MJPEG cameras decode to): players show washed-out or crushed colours otherwise. Done by the
 * hardware scaler, which costs nothing extra.
 */
function fixVaapiPixelFormat(a: HardwareArgs): void {
  const fix = "out_color_matrix=bt709:out_range=tv:format=nv12";
  const i = a.filters.findIndex((f) => f.startsWith("scale="));
  if (i >= 0) a.filters[i] += ":" + fix;
  else a.filters.push("scale=" + fix);
}

/**
 * Rewrites the software encoders in `a.codecs` for `engine` (empty = ask `probe`; H.265 is never
 * probed, as in go2rtc, because its probing is unreliable). A codec without a `<codec>/<engine>`
 * template keeps its software encoder (go2rtc would emit an empty codec line there).
 *
 * @example
 * ```ts
 * const a = { input: "-i rtsp://cam", codecs: ["-c:v libx264 -g 50"], filters: ["scale=1280:-1"] };
 * makeHardware(a, "cuda", templates);
 * // a.input  = "-hwaccel cuda -hwaccel_output_format cuda -i rtsp://cam"
 * // a.codecs = ["-c:v h264_nvenc -g 50 -bf 0 ..."], a.filters = ["scale_cuda=1280:-1"]
 * ```
 */
export function makeHardware(
  a: HardwareArgs,
  engine: string,
  templates: Readonly<Record<string, string>>,
  probe?: HardwareProbe,
): void {
  // With several outputs (#video=h264#video=mjpeg#hardware) the input and filters are rewritten
  // once; later codecs only swap their encoder. (go2rtc repeats -hwaccel for each.)
  let rewritten = false;
  for (let i = 0; i < a.codecs.length; i++) {
    const codec = a.codecs[i];
    if (codec.length < 10) continue; // short lines such as "-c:v copy"

    let name: HardwareCodec;
    switch (encoderOf(codec)) {
      case "libx264":
        name = "h264";
        break;
      case "libx265":
        name = "h265";
        break;
      case "mjpeg":
        name = "mjpeg";
        break;
      default:
        continue;
    }

    let use = engine;
    if (use === "" && name !== "h265") use = probe?.(name) ?? "";
    const template = templates[`${name}/${use}`];
    if (!template) continue;
    if (rewritten) {
      a.codecs[i] = template;
      continue;
    }
    rewritten = true;

    switch (use) {
      case "vaapi":
        a.codecs[i] = template;
        if (!hasFilter(a.filters, "drawtext=")) {
          a.input = "-hwaccel vaapi -hwaccel_output_format vaapi -hwaccel_flags allow_profile_mismatch " +
            a.input;
          if (name === "h264") fixVaapiPixelFormat(a);
          for (let j = 0; j < a.filters.length; j++) {
            const f = a.filters[j];
            if (f.startsWith("scale=")) a.filters[j] = "scale_vaapi=" + f.slice(6);
            if (f.startsWith("transpose=")) {
              // 180 degrees is two software transposes but one hardware "reversal".
              a.filters[j] = f === "transpose=1,transpose=1"
                ? "transpose_vaapi=4"
                : "transpose_vaapi=" + f.slice(10);
            }
          }
          // Uploads frames when the decoder could not use the GPU; a no-op when it could.
          a.filters.unshift("format=vaapi|nv12,hwupload");
        } else {
          // drawtext runs on the CPU: decode to system memory, upload after the software filters.
          a.input = "-hwaccel vaapi -hwaccel_output_format nv12 -hwaccel_flags allow_profile_mismatch " +
            a.input;
          a.filters.push("hwupload");
        }
        break;

      case "cuda":
        a.codecs[i] = template;
        // CUDA has no hardware transpose (go2rtc issue #389).
        if (!hasFilter(a.filters, "drawtext=", "transpose=")) {
          a.input = "-hwaccel cuda -hwaccel_output_format cuda " + a.input;
          for (let j = 0; j < a.filters.length; j++) {
            if (a.filters[j].startsWith("scale=")) a.filters[j] = "scale_cuda=" + a.filters[j].slice(6);
          }
        } else {
          a.input = "-hwaccel cuda -hwaccel_output_format nv12 " + a.input;
          a.filters.push("hwupload");
        }
        break;

      case "dxva2":
        a.input = "-hwaccel dxva2 -hwaccel_output_format dxva2_vld " + a.input;
        a.codecs[i] = template;
        for (let j = 0; j < a.filters.length; j++) {
          if (a.filters[j].startsWith("scale=")) a.filters[j] = "scale_qsv=" + a.filters[j].slice(6);
        }
        a.filters.unshift("hwmap=derive_device=qsv,format=qsv");
        break;

      case "videotoolbox":
        a.input = "-hwaccel videotoolbox -hwaccel_output_format videotoolbox_vld " + a.input;
        a.codecs[i] = template;
        break;

      case "v4l2m2m":
        a.codecs[i] = template;
        break;

      case "rkmpp": {
        a.codecs[i] = template;
        // The Rockchip encoder scales by itself: the scale filter becomes -width/-height.
        const j = a.filters.findIndex((f) => f.startsWith("scale="));
        if (j >= 0) {
          const [width, height] = a.filters[j].slice(6).split(":");
          a.filters.splice(j, 1);
          if (width !== undefined && width !== "-1") a.codecs[i] += " -width " + width;
          if (height !== undefined && height !== "-1") a.codecs[i] += " -height " + height;
        }
        break;
      }
    }
  }
}
