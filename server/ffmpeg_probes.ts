/**
 * What strom asks the installed ffmpeg once and keeps: which hardware encoders work here (for a bare
 * `#hardware` and `GET /api/ffmpeg/hardware`) and which capture devices there are (for
 * `ffmpeg:device?video=<index>` and `GET /api/ffmpeg/devices`). One prober per ffmpeg binary; a
 * changed `ffmpeg.bin` starts afresh. Every probe runs the configured ffmpeg with fixed arguments.
 *
 * @module
 */
import type { Logger } from "../lib/core/log.ts";
import { splitHashParams } from "../lib/protocol/exec/params.ts";
import { type DeviceCatalog, listDevices } from "../lib/protocol/ffmpeg/devices.ts";
import type { HardwareCodec } from "../lib/protocol/ffmpeg/hardware.ts";
import { HardwareProber } from "../lib/protocol/ffmpeg/hardware_probe.ts";
import type { DevicePlatform } from "../lib/protocol/ffmpeg/inputs.ts";
import type { FfmpegArgsOptions } from "../lib/protocol/ffmpeg/mod.ts";
import { runProbe } from "../lib/protocol/ffmpeg/run_probe.ts";
import { readDir } from "../lib/runtime/fs.ts";
import { hostSystem } from "../lib/runtime/host.ts";

let prober: HardwareProber | undefined;
let devices: { bin: string; catalog: Promise<DeviceCatalog> } | undefined;

/**
 * The hardware prober of `bin` (made on first use, kept while `bin` stays the same).
 *
 * @example
 * ```ts
 * const results = await hardwareProber("ffmpeg", log).probeAll();
 * ```
 */
export function hardwareProber(bin: string, log?: Logger): HardwareProber {
  if (!prober || prober.bin !== bin) {
    prober = new HardwareProber({ bin, run: runProbe, ...hostSystem(), log });
  }
  return prober;
}

/**
 * The capture devices `bin` can read (asked once per binary).
 *
 * @example
 * ```ts
 * const { sources } = await deviceCatalog("ffmpeg"); // [] on a machine without cameras
 * ```
 */
export function deviceCatalog(bin: string): Promise<DeviceCatalog> {
  if (!devices || devices.bin !== bin) {
    const catalog = listDevices({
      bin,
      run: runProbe,
      platform: hostSystem().platform,
      devNames: async () => (await readDir("/dev").catch(() => [])).map((e) => e.name),
    });
    devices = { bin, catalog };
  }
  return devices.catalog;
}

/** `process.platform` as the `device?` input builder names it. */
export function devicePlatform(): DevicePlatform {
  const p = hostSystem().platform;
  return p === "win32" ? "windows" : p === "darwin" ? "darwin" : p === "freebsd" ? "freebsd" : "linux";
}

const PROBED_CODECS: Record<string, HardwareCodec> = { h264: "h264", mjpeg: "mjpeg" };

/**
 * The options an `ffmpeg:` source needs probed before its command is built: the engine of a bare
 * `#hardware` for each `#video=` codec that has one (H.264, MJPEG; H.265 is never probed, as in
 * go2rtc), and the device list when the input is `device?` with an index.
 *
 * @example
 * ```ts
 * await prepareFfmpegSource("ffmpeg:cam#video=h264#hardware", "ffmpeg", log); // { platform, probeHardware }
 * ```
 */
export async function prepareFfmpegSource(
  url: string,
  bin: string,
  log?: Logger,
): Promise<Partial<FfmpegArgsOptions>> {
  const { base, params } = splitHashParams(url);
  const extra: Partial<FfmpegArgsOptions> = { platform: devicePlatform() };
  if (params.get("hardware")?.includes("")) {
    const p = hardwareProber(bin, log);
    for (const video of params.get("video") ?? []) {
      const codec = PROBED_CODECS[video];
      if (codec) await p.engineFor(codec);
    }
    extra.probeHardware = (codec) => p.cached(codec);
  }
  const device = /^ffmpeg:device\?(.*)$/i.exec(base);
  if (device) {
    const q = new URLSearchParams(device[1]);
    if (/^\d+$/.test(q.get("video") ?? "") || /^\d+$/.test(q.get("audio") ?? "")) {
      extra.devices = (await deviceCatalog(bin)).list;
    }
  }
  return extra;
}
