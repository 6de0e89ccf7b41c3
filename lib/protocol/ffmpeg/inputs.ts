/**
 * Special `ffmpeg:` inputs that are not URLs: local capture devices (`device?...`), generated test
 * sources (`virtual?...`) and speech synthesis (`tts?...`).
 *
 * @module
 */

/** Operating systems whose capture input formats differ. */
export type DevicePlatform = "linux" | "freebsd" | "windows" | "darwin";

/**
 * Capture devices found on the machine, in the order the device list shows them, so `video=0`
 * can name the first one. Enumerating them needs ffmpeg; the caller does it once and passes them in.
 */
export interface DeviceList {
  video?: string[];
  audio?: string[];
}

// An index into the device list, or the value itself when it is not an index.
function indexToItem(items: string[] | undefined, value: string): string {
  if (/^\d+$/.test(value)) {
    const i = Number(value);
    if (items && i < items.length) return items[i];
  }
  return value;
}

function option(params: URLSearchParams, keys: string[], rename: Record<string, string> = {}): string {
  let out = "";
  for (const [key, value] of params) {
    if (key in rename) out += ` -${rename[key]} ${value}`;
    else if (keys.includes(key)) out += ` -${key} ${value}`;
  }
  return out;
}

/**
 * The ffmpeg input of a capture device: `device?video=0&video_size=1280x720&framerate=30`.
 * Linux and FreeBSD use v4l2 (video) or alsa/oss (audio, when there is no video); Windows dshow and
 * macOS avfoundation take video and audio in one input. Returns `""` when neither is given.
 *
 * @example
 * ```ts
 * deviceInput("video=0&video_size=1920x1080", "windows"); // '-f dshow -video_size 1920x1080 -i "video=0"'
 * deviceInput("video=/dev/video0&input_format=mjpeg", "linux"); // "-f v4l2 -input_format mjpeg -i /dev/video0"
 * ```
 */
export function deviceInput(query: string, platform: DevicePlatform, devices: DeviceList = {}): string {
  const params = new URLSearchParams(query);
  const video = params.get("video") ?? "";
  const audio = params.get("audio") ?? "";
  const resolution = { resolution: "video_size" };

  if (platform === "linux" || platform === "freebsd") {
    if (video) {
      // https://ffmpeg.org/ffmpeg-devices.html#video4linux2_002c-v4l2
      const opts = option(
        params,
        ["video_size", "pixel_format", "input_format", "framerate", "use_libv4l2"],
        resolution,
      );
      return `-f v4l2${opts} -i ${indexToItem(devices.video, video)}`;
    }
    if (audio) {
      const format = platform === "linux" ? "alsa" : "oss";
      return `-f ${format}${option(params, ["channels", "sample_rate"])} -i ${
        indexToItem(devices.audio, audio)
      }`;
    }
    return "";
  }

  if (!video && !audio) return "";

  if (platform === "windows") {
    // https://ffmpeg.org/ffmpeg-devices.html#dshow
    let input = "-f dshow";
    if (video) input += option(params, ["video_size", "framerate", "pixel_format"], resolution);
    if (audio) input += option(params, ["sample_rate", "sample_size", "channels", "audio_buffer_size"]);
    const v = video ? indexToItem(devices.video, video) : "";
    const a = audio ? indexToItem(devices.audio, audio) : "";
    if (v) return `${input} -i "video=${v}${a ? `:audio=${a}` : ""}"`;
    return `${input} -i "audio=${a}"`;
  }

  // darwin: https://ffmpeg.org/ffmpeg-devices.html#avfoundation
  let input = "-f avfoundation";
  if (video) {
    input += option(
      params,
      [
        "pixel_format",
        "framerate",
        "video_size",
        "capture_cursor",
        "capture_mouse_clicks",
        "capture_raw_data",
      ],
      resolution,
    );
  }
  const v = video ? indexToItem(devices.video, video) : "";
  const a = audio ? indexToItem(devices.audio, audio) : "";
  return `${input} -i "${v}:${a}"`;
}

const SIZES: Record<string, string> = {
  "720": "1280x720",
  "1080": "1920x1080",
  "2K": "2560x1440",
  "4K": "3840x2160",
  "8K": "7680x4320",
};

/**
 * The lavfi input of a generated test source: `virtual?video=testsrc2&size=4K&rate=15`. A bare
 * `video` means `testsrc=decimals=2`; `size` defaults to 1920x1080 and accepts `720`, `1080`, `2K`,
 * `4K`, `8K`; `color`, `rate`, `duration`, `sar`, `decimals` pass through; `format` adds a format
 * filter. Each `video` value is one more input.
 *
 * @example
 * ```ts
 * virtualInput("video=testsrc2&size=4K"); // "-re -f lavfi -i testsrc2=size=3840x2160"
 * ```
 */
export function virtualInput(query: string): string {
  const params = new URLSearchParams(query);
  let input = "-re";
  for (let video of params.getAll("video")) {
    // https://ffmpeg.org/ffmpeg-filters.html#allrgb_002c-allyuv_002c-color_002c-colorchart_002c-colorspectrum_002c-haldclutsrc_002c-nullsrc_002c-pal75bars_002c-pal100bars_002c-rgbtestsrc_002c-smptebars_002c-smptehdbars_002c-testsrc_002c-testsrc2_002c-yuvtestsrc
    let sep = "=";
    if (video === "") {
      video = "testsrc=decimals=2";
      sep = ":";
    }
    input += ` -f lavfi -i ${video}`;
    const keys = new Map<string, string>();
    for (const [key, value] of params) if (!keys.has(key)) keys.set(key, value);
    if (!keys.has("size")) keys.set("size", "1920x1080");
    for (const [key, raw] of keys) {
      let value = raw;
      switch (key) {
        case "color":
        case "rate":
        case "duration":
        case "sar":
        case "decimals":
          break;
        case "size":
          value = SIZES[value] ?? value;
          break;
        default:
          continue;
      }
      input += `${sep}${key}=${value}`;
      sep = ":";
    }
    const format = params.get("format");
    if (format) input += `,format=${format}`;
  }
  return input;
}

/**
 * The lavfi input of spoken text (ffmpeg built with libflite): `tts?text=hello&voice=slt`.
 *
 * @example
 * ```ts
 * ttsInput("text=hello world&voice=slt"); // `-re -f lavfi -i "flite=text='hello world':voice=slt"`
 * ```
 */
export function ttsInput(query: string): string {
  const params = new URLSearchParams(query);
  let input = `-re -f lavfi -i "flite=text='${params.get("text") ?? ""}'`;
  // Voices: ffmpeg -f lavfi -i flite=list_voices=1 (awb, kal, kal16, rms, slt).
  // go2rtc writes ":voice" + name without "=", which flite rejects; this is the working form.
  const voice = params.get("voice");
  if (voice) input += `:voice=${voice}`;
  return input + `"`;
}
