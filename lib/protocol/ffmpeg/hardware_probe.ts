/**
 * Which hardware encoders the installed ffmpeg can use here, found the way go2rtc finds them: for
 * each engine the platform may have, encode one second of ffmpeg's test picture with it and see
 * whether ffmpeg succeeds. A bare `#hardware` on an `ffmpeg:` source takes the first engine that
 * works for its codec (else the software encoder stays), and `GET /api/ffmpeg/hardware` lists every
 * probe with `OK` or `ERROR`, as go2rtc's does.
 *
 * An encoder the ffmpeg build does not have (`ffmpeg -encoders`) is not run. Each result is kept for
 * the life of the prober (one per ffmpeg binary): a probe costs up to a few seconds of ffmpeg.
 *
 * @module
 */
import type { Logger } from "../../core/log.ts";
import type { HardwareCodec, HardwareEngine } from "./hardware.ts";
import { lastMessage, type ProbeRunner } from "./run_probe.ts";

/** One way to try a hardware encoder: ffmpeg's arguments for a one-second test encode with it. */
export interface HardwareProbeSpec {
  codec: HardwareCodec;
  engine: HardwareEngine;
  /** The ffmpeg encoder tried, e.g. `h264_vaapi`. */
  encoder: string;
  /** Arguments after the ffmpeg binary. */
  args: readonly string[];
}

/** The outcome of one {@link HardwareProbeSpec}. */
export interface HardwareProbeResult extends HardwareProbeSpec {
  ok: boolean;
  /** Why not, when not ok: `h264_vaapi is not in this ffmpeg build`, or ffmpeg's last message. */
  reason?: string;
}

// ffmpeg's test pattern through the encoder, one second, thrown away.
const testEncode = (encoder: string, before: readonly string[] = [], filter?: string): string[] => [
  "-hide_banner",
  ...before,
  "-f",
  "lavfi",
  "-i",
  "testsrc2",
  "-t",
  "1",
  ...(filter ? ["-vf", filter] : []),
  "-c",
  encoder,
  "-f",
  "null",
  "-",
];

const spec = (
  codec: HardwareCodec,
  engine: HardwareEngine,
  encoder: string,
  before: readonly string[] = [],
  filter?: string,
): HardwareProbeSpec => ({ codec, engine, encoder, args: testEncode(encoder, before, filter) });

const VAAPI = ["-init_hw_device", "vaapi"];
const CUDA = ["-init_hw_device", "cuda"];
const DXVA2 = ["-init_hw_device", "dxva2"];
const UPLOAD = "format=nv12,hwupload";

/**
 * The probes for a platform and CPU (Node's `process.platform` and `process.arch` names), in the
 * order `GET /api/ffmpeg/hardware` lists them: go2rtc's list for the same system.
 *
 * @example
 * ```ts
 * hardwareProbes("linux", "x64").map((p) => p.encoder);
 * // ["h264_vaapi", "hevc_vaapi", "mjpeg_vaapi", "h264_nvenc", "hevc_nvenc"]
 * ```
 */
export function hardwareProbes(platform: string, arch: string): HardwareProbeSpec[] {
  if (platform === "darwin") {
    return [
      spec("h264", "videotoolbox", "h264_videotoolbox"),
      spec("h265", "videotoolbox", "hevc_videotoolbox"),
    ];
  }
  if (platform === "win32") {
    return [
      spec("h264", "dxva2", "h264_qsv", DXVA2),
      spec("h265", "dxva2", "hevc_qsv", DXVA2),
      spec("mjpeg", "dxva2", "mjpeg_qsv", DXVA2),
      spec("h264", "cuda", "h264_nvenc", CUDA),
      spec("h265", "cuda", "hevc_nvenc", CUDA),
    ];
  }
  if (arch === "arm64" || arch === "arm") {
    // Raspberry Pi (V4L2 memory-to-memory) and Rockchip (MPP).
    return [
      spec("h264", "v4l2m2m", "h264_v4l2m2m"),
      spec("h265", "v4l2m2m", "hevc_v4l2m2m"),
      spec("h264", "rkmpp", "h264_rkmpp_encoder"),
      spec("h265", "rkmpp", "hevc_rkmpp_encoder"),
    ];
  }
  // Linux and the BSDs on x86: Intel and AMD (VAAPI), NVIDIA (NVENC).
  return [
    spec("h264", "vaapi", "h264_vaapi", VAAPI, UPLOAD),
    spec("h265", "vaapi", "hevc_vaapi", VAAPI, UPLOAD),
    spec("mjpeg", "vaapi", "mjpeg_vaapi", VAAPI, UPLOAD),
    spec("h264", "cuda", "h264_nvenc", CUDA),
    spec("h265", "cuda", "hevc_nvenc", CUDA),
  ];
}

/**
 * The order a bare `#hardware` tries engines for `codec`, as go2rtc's: NVIDIA before VAAPI on x86
 * (a machine with both has an NVIDIA card added to an Intel CPU's graphics), the Raspberry Pi's
 * encoder before Rockchip's on ARM. H.265 is never auto-probed (go2rtc: unreliable); empty then.
 *
 * @example
 * ```ts
 * autoProbeOrder("linux", "x64", "h264").map((p) => p.engine); // ["cuda", "vaapi"]
 * ```
 */
export function autoProbeOrder(platform: string, arch: string, codec: HardwareCodec): HardwareProbeSpec[] {
  if (codec === "h265") return [];
  const all = hardwareProbes(platform, arch).filter((p) => p.codec === codec);
  const rank = (e: HardwareEngine) => (e === "cuda" ? 0 : 1);
  return all.sort((a, b) => rank(a.engine) - rank(b.engine));
}

/**
 * Encoder names in the output of `ffmpeg -hide_banner -encoders` (lines such as
 * ` V....D h264_vaapi           H.264/AVC (VAAPI) (codec h264)`).
 *
 * @example
 * ```ts
 * parseEncoderList(" V....D libx264  libx264 H.264\n V....D h264_vaapi  H.264/AVC (VAAPI)\n"); // Set {"libx264", "h264_vaapi"}
 * ```
 */
export function parseEncoderList(output: string): Set<string> {
  const names = new Set<string>();
  for (const line of output.split("\n")) {
    const m = /^\s*[VAS][F.][S.][X.][B.][D.]\s+(\S+)/.exec(line);
    if (m && m[1] !== "=") names.add(m[1]);
  }
  return names;
}

/** Options of {@link HardwareProber}. */
export interface HardwareProberOptions {
  /** The ffmpeg binary (`ffmpeg.bin`). */
  bin: string;
  /** Runs ffmpeg (lib/protocol/ffmpeg/run_probe.ts's `runProbe` in strom). */
  run: ProbeRunner;
  /** Node's `process.platform` and `process.arch`. */
  platform: string;
  arch: string;
  log?: Logger;
}

/**
 * Probes the hardware encoders of one ffmpeg binary, each at most once; concurrent callers share a
 * probe in flight.
 *
 * @example
 * ```ts
 * const prober = new HardwareProber({ bin: "ffmpeg", run: runProbe, platform: "linux", arch: "x64" });
 * const engine = await prober.engineFor("h264"); // "vaapi", "cuda" or "software"
 * prober.cached("h264"); // the same, synchronously, once probed
 * ```
 */
export class HardwareProber {
  readonly bin: string;
  readonly #o: HardwareProberOptions;
  #encoders: Promise<Set<string> | undefined> | undefined;
  readonly #results = new Map<string, Promise<HardwareProbeResult>>();
  readonly #engines = new Map<HardwareCodec, Promise<string>>();
  readonly #settled = new Map<HardwareCodec, string>();

  constructor(options: HardwareProberOptions) {
    this.bin = options.bin;
    this.#o = options;
  }

  // The build's encoders, or undefined when `-encoders` could not be read (then every probe runs).
  #encoderList(): Promise<Set<string> | undefined> {
    this.#encoders ??= this.#o.run(this.bin, ["-hide_banner", "-encoders"]).then((r) =>
      r.ok ? parseEncoderList(r.output) : undefined
    );
    return this.#encoders;
  }

  /** Runs one probe (once; later calls get the same result). */
  probe(p: HardwareProbeSpec): Promise<HardwareProbeResult> {
    let result = this.#results.get(p.encoder);
    if (!result) {
      result = (async () => {
        const encoders = await this.#encoderList();
        if (encoders && !encoders.has(p.encoder)) {
          return { ...p, ok: false, reason: `${p.encoder} is not in this ffmpeg build (ffmpeg -encoders)` };
        }
        const run = await this.#o.run(this.bin, p.args);
        if (run.ok) return { ...p, ok: true };
        const said = lastMessage(run.output);
        return { ...p, ok: false, reason: `${run.reason ?? "failed"}${said ? `: ${said}` : ""}` };
      })();
      this.#results.set(p.encoder, result);
    }
    return result;
  }

  /** Every probe of this platform, in go2rtc's order (runs those not run yet, one at a time). */
  async probeAll(): Promise<HardwareProbeResult[]> {
    const out: HardwareProbeResult[] = [];
    for (const p of hardwareProbes(this.#o.platform, this.#o.arch)) out.push(await this.probe(p));
    return out;
  }

  /**
   * The engine a bare `#hardware` uses for `codec`: the first in {@link autoProbeOrder} that works,
   * else `"software"`. Logged once per codec.
   */
  engineFor(codec: HardwareCodec): Promise<string> {
    let engine = this.#engines.get(codec);
    if (!engine) {
      engine = (async () => {
        const tried: string[] = [];
        let use = "software";
        for (const p of autoProbeOrder(this.#o.platform, this.#o.arch, codec)) {
          const r = await this.probe(p);
          if (r.ok) {
            use = p.engine;
            break;
          }
          tried.push(`${p.encoder}: ${r.reason}`);
        }
        this.#settled.set(codec, use);
        if (use !== "software") {
          this.#o.log?.info("#hardware: using a hardware encoder", { codec, engine: use });
        } else {
          this.#o.log?.info("#hardware: no hardware encoder works here, the software encoder stays", {
            codec,
            tried: tried.join("; ") || "(none for this codec on this system)",
          });
        }
        return use;
      })();
      this.#engines.set(codec, engine);
    }
    return engine;
  }

  /** The engine {@link engineFor} settled on, or undefined while not probed. */
  cached(codec: HardwareCodec): string | undefined {
    return this.#settled.get(codec);
  }
}
