/**
 * The capture devices ffmpeg can read here, as go2rtc lists them for its *Add* page
 * (`GET /api/ffmpeg/devices`) and as `ffmpeg:device?video=<index>` counts them. On Linux: each
 * `/dev/video*` node asked for its formats (`ffmpeg -f v4l2 -list_formats all -i <node>`; nodes that
 * list none, such as a UVC camera's metadata node, are not capture devices), and ALSA's `default`
 * microphone when ffmpeg can record from it. Other systems: none listed yet.
 *
 * @module
 */
import type { DeviceList } from "./inputs.ts";
import type { ProbeRunner } from "./run_probe.ts";

/** A source to add, in go2rtc's `/api/ffmpeg/devices` form. */
export interface DeviceSource {
  /** What the device calls the format, and its sizes: `Motion-JPEG | 640x360 1280x720`. */
  name: string;
  /** The device node or ALSA name. */
  info: string;
  /** An `ffmpeg:device?...` source for it. */
  url: string;
}

/** What {@link listDevices} found. */
export interface DeviceCatalog {
  sources: DeviceSource[];
  /** For `device?video=<index>` and `device?audio=<index>`: the devices in the order found. */
  list: DeviceList;
}

/**
 * Sources from ffmpeg's v4l2 format list of `node`, one per format (at its first size, when the
 * device lists sizes rather than a stepwise range): compressed
 * formats (MJPEG, H.264) are copied, raw ones are encoded to H.264 with `#hardware`, as go2rtc's.
 *
 * @example
 * ```ts
 * parseV4l2Formats("[video4linux2,v4l2 @ 0x1] Compressed:       mjpeg :          Motion-JPEG : 640x360 1280x720\n", "/dev/video0");
 * // [{ name: "Motion-JPEG | 640x360 1280x720", info: "/dev/video0",
 * //    url: "ffmpeg:device?video=/dev/video0&input_format=mjpeg&video_size=640x360" }]
 * ```
 */
export function parseV4l2Formats(output: string, node: string): DeviceSource[] {
  const sources: DeviceSource[] = [];
  for (const line of output.split(/\r?\n/)) {
    const m = /(Raw|Compressed)\s*:\s+(\S+)\s+:\s+(.+?)\s+:\s+(.+?)\s*$/.exec(line);
    if (!m) continue;
    const [, kind, format, label, sizes] = m;
    if (!/^[\w-]+$/.test(format)) continue;
    // Discrete sizes: the first; a stepwise range (`{32-4096, 2}x{32-2304, 2}`): the device's own.
    const size = sizes.split(/\s+/)[0];
    let url = `ffmpeg:device?video=${node}&input_format=${format}`;
    if (/^\d+x\d+$/.test(size)) url += `&video_size=${size}`;
    if (kind === "Raw") url += "#video=h264#hardware";
    sources.push({ name: `${label} | ${sizes}`, info: node, url });
  }
  return sources;
}

/** Options of {@link listDevices}. */
export interface ListDevicesOptions {
  /** The ffmpeg binary. */
  bin: string;
  run: ProbeRunner;
  /** Node's `process.platform`. */
  platform: string;
  /** The names in `/dev` (Linux). */
  devNames: () => Promise<string[]>;
}

// video0 < video2 < video10.
const byNumber = (a: string, b: string) => a.localeCompare(b, "en", { numeric: true });

/**
 * Asks ffmpeg which capture devices this machine has (see the module docs).
 *
 * @example
 * ```ts
 * const { sources, list } = await listDevices({ bin: "ffmpeg", run: runProbe, platform: "linux", devNames });
 * // list.video: ["/dev/video0"]; sources[0].url: "ffmpeg:device?video=/dev/video0&input_format=mjpeg&video_size=1280x720"
 * ```
 */
export async function listDevices(o: ListDevicesOptions): Promise<DeviceCatalog> {
  const sources: DeviceSource[] = [];
  const list: DeviceList = { video: [], audio: [] };
  if (o.platform !== "linux") return { sources, list };
  const nodes = (await o.devNames()).filter((n) => /^video\d+$/.test(n)).sort(byNumber).map((n) =>
    `/dev/${n}`
  );
  for (const node of nodes) {
    const run = await o.run(o.bin, ["-hide_banner", "-f", "v4l2", "-list_formats", "all", "-i", node]);
    const found = parseV4l2Formats(run.output, node);
    if (!found.length) continue;
    list.video!.push(node);
    sources.push(...found);
  }
  const alsa = await o.run(o.bin, [
    "-hide_banner",
    "-f",
    "alsa",
    "-i",
    "default",
    "-t",
    "1",
    "-f",
    "null",
    "-",
  ]);
  if (alsa.ok) {
    list.audio!.push("default");
    sources.push({
      name: "ALSA default",
      info: "default",
      url: "ffmpeg:device?audio=default&channels=1&sample_rate=16000#audio=opus",
    });
  }
  return { sources, list };
}
