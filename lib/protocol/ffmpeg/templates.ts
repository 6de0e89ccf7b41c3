/**
 * The template table of `ffmpeg:` sources: input templates, output templates and codec presets, by
 * name. Every key can be overridden, and new ones added, from the `ffmpeg:` section of the config;
 * `#video=`, `#audio=`, `#input=`, `#raw=` and `#drawtext=` values that name a key use its text.
 *
 * The values match go2rtc's (`internal/ffmpeg/ffmpeg.go`), so existing configs keep their meaning.
 *
 * @module
 */

/**
 * Built-in templates. `{input}` is replaced by the source, `{timeout}` by the RTSP timeout in
 * microseconds, `{output}` (kept in the built command) by the exec source.
 *
 * @example
 * ```ts
 * FFMPEG_DEFAULTS["h264"]; // "-c:v libx264 -g 50 -profile:v high ..."
 * ```
 */
export const FFMPEG_DEFAULTS: Readonly<Record<string, string>> = Object.freeze({
  bin: "ffmpeg",
  global: "-hide_banner",
  /** Seconds; `{timeout}` in a template becomes this many microseconds. `#timeout=` overrides. */
  timeout: "5",

  // Inputs.
  file: "-re -i {input}",
  http: "-fflags nobuffer -flags low_delay -i {input}",
  rtsp:
    "-fflags nobuffer -flags low_delay -timeout {timeout} -user_agent go2rtc/ffmpeg -rtsp_flags prefer_tcp -i {input}",
  "rtsp/udp": "-fflags nobuffer -flags low_delay -timeout {timeout} -user_agent go2rtc/ffmpeg -i {input}",

  // Outputs. The default pushes RTSP back into our own server; the others write to stdout.
  output: "-user_agent ffmpeg/go2rtc -rtsp_transport tcp -f rtsp {output}",
  "output/mjpeg": "-f mjpeg -",
  "output/raw": "-f yuv4mpegpipe -",
  "output/aac": "-f adts -",
  "output/wav": "-f wav -",
  // strom addition: a pipe alternative to the RTSP default (see `FfmpegArgsOptions.output`).
  "output/mpegts": "-f mpegts -",

  // Video. `-preset superfast`: ultrafast cannot do `-profile main -level 4.1`; `-tune zerolatency`
  // for latency; `-profile high -level 4.1` is the usual streaming profile; `-pix_fmt yuv420p` is
  // needed by some players (Telegram).
  h264:
    "-c:v libx264 -g 50 -profile:v high -level:v 4.1 -preset:v superfast -tune:v zerolatency -pix_fmt:v yuv420p",
  h265:
    "-c:v libx265 -g 50 -profile:v main -level:v 5.1 -preset:v superfast -tune:v zerolatency -pix_fmt:v yuv420p",
  mjpeg: "-c:v mjpeg",
  raw: "-c:v rawvideo",
  "raw/gray8": "-c:v rawvideo -pix_fmt:v gray8",
  "raw/yuv420p": "-c:v rawvideo -pix_fmt:v yuv420p",
  "raw/yuv422p": "-c:v rawvideo -pix_fmt:v yuv422p",
  "raw/yuv444p": "-c:v rawvideo -pix_fmt:v yuv444p",

  // Audio. `-min_comp 0` forces resampling to steady timestamps, which WebRTC audio needs.
  opus: "-c:a libopus -application:a lowdelay -min_comp 0",
  "opus/16000": "-c:a libopus -application:a lowdelay -min_comp 0 -ar:a 16000 -ac:a 1",
  pcmu: "-c:a pcm_mulaw -ar:a 8000 -ac:a 1",
  "pcmu/8000": "-c:a pcm_mulaw -ar:a 8000 -ac:a 1",
  "pcmu/16000": "-c:a pcm_mulaw -ar:a 16000 -ac:a 1",
  "pcmu/48000": "-c:a pcm_mulaw -ar:a 48000 -ac:a 1",
  pcma: "-c:a pcm_alaw -ar:a 8000 -ac:a 1",
  "pcma/8000": "-c:a pcm_alaw -ar:a 8000 -ac:a 1",
  "pcma/16000": "-c:a pcm_alaw -ar:a 16000 -ac:a 1",
  "pcma/48000": "-c:a pcm_alaw -ar:a 48000 -ac:a 1",
  aac: "-c:a aac", // keeps sample rate and channels
  "aac/16000": "-c:a aac -ar:a 16000 -ac:a 1",
  mp3: "-c:a libmp3lame -q:a 8",
  pcm: "-c:a pcm_s16be -ar:a 8000 -ac:a 1",
  "pcm/8000": "-c:a pcm_s16be -ar:a 8000 -ac:a 1",
  "pcm/16000": "-c:a pcm_s16be -ar:a 16000 -ac:a 1",
  "pcm/48000": "-c:a pcm_s16be -ar:a 48000 -ac:a 1",
  pcml: "-c:a pcm_s16le -ar:a 8000 -ac:a 1",
  "pcml/8000": "-c:a pcm_s16le -ar:a 8000 -ac:a 1",
  "pcml/44100": "-c:a pcm_s16le -ar:a 44100 -ac:a 1",

  // Hardware encoders, `<codec>/<engine>`. `-bf 0`: B-frames break WebRTC and low-latency players.
  // Intel/AMD on Linux (no `-async_depth 1` as for QSV: it drops frames).
  "h264/vaapi": "-c:v h264_vaapi -g 50 -bf 0 -profile:v high -level:v 4.1 -sei:v 0",
  "h265/vaapi": "-c:v hevc_vaapi -g 50 -bf 0 -profile:v main -level:v 5.1 -sei:v 0",
  "mjpeg/vaapi": "-c:v mjpeg_vaapi",
  // Raspberry Pi.
  "h264/v4l2m2m": "-c:v h264_v4l2m2m -g 50 -bf 0",
  "h265/v4l2m2m": "-c:v hevc_v4l2m2m -g 50 -bf 0",
  // Rockchip (needs a patched ffmpeg; hevc has no profile option).
  "h264/rkmpp": "-c:v h264_rkmpp_encoder -g 50 -bf 0 -profile:v high -level:v 4.1",
  "h265/rkmpp": "-c:v hevc_rkmpp_encoder -g 50 -bf 0 -level:v 5.1",
  // NVIDIA on Linux and Windows: preset p2 is fast, tune ll is low latency.
  "h264/cuda": "-c:v h264_nvenc -g 50 -bf 0 -profile:v high -level:v auto -preset:v p2 -tune:v ll",
  "h265/cuda": "-c:v hevc_nvenc -g 50 -bf 0 -profile:v main -level:v auto",
  // Intel on Windows (QSV).
  "h264/dxva2": "-c:v h264_qsv -g 50 -bf 0 -profile:v high -level:v 4.1 -async_depth:v 1",
  "h265/dxva2": "-c:v hevc_qsv -g 50 -bf 0 -profile:v main -level:v 5.1 -async_depth:v 1",
  "mjpeg/dxva2": "-c:v mjpeg_qsv",
  // macOS.
  "h264/videotoolbox": "-c:v h264_videotoolbox -g 50 -bf 0 -profile:v high -level:v 4.1",
  "h265/videotoolbox": "-c:v hevc_videotoolbox -g 50 -bf 0 -profile:v main -level:v 5.1",
});

/**
 * Merges the `ffmpeg:` config section over the built-in templates. Non-string values (YAML numbers
 * such as `timeout: 10`) become strings; `null`/`undefined` values are ignored.
 *
 * @example
 * ```ts
 * const templates = ffmpegTemplates({ bin: "/usr/lib/jellyfin-ffmpeg/ffmpeg", h264: "-c:v libx264 -preset ultrafast" });
 * ```
 */
export function ffmpegTemplates(config: Record<string, unknown> = {}): Record<string, string> {
  const out: Record<string, string> = { ...FFMPEG_DEFAULTS };
  for (const [key, value] of Object.entries(config)) {
    if (value === null || value === undefined) continue;
    out[key] = typeof value === "string" ? value : String(value);
  }
  return out;
}
