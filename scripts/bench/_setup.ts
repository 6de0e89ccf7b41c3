/**
 * What the fan-out benches set up the same way: the 1080p25 4 Mbit/s camera clip (encoded once),
 * the test camera publishing it, free ports, waiting for a listener, and the shipped strom bundle.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Child, ROOT, runtimeCommand, sleep } from "./_children.ts";
import { DENO_V8_FLAGS } from "../build/deno_flags.mjs";

const BENCH = join(ROOT, "scripts", "bench");

/**
 * What the documented Deno command adds to `deno run` for strom (README, user guide): the young
 * generation capped at start, which on Deno only a start flag can do (scripts/build/deno_flags.mjs).
 */
export const DENO_STROM_V8_FLAGS = `--v8-flags=${DENO_V8_FLAGS}`;

/**
 * The camera clip, encoded once into the temp folder (so encoding never competes with the servers
 * for CPU) and shared by every bench: 20 s of 1080p25 H.264 at 4 Mbit/s, testsrc2 + temporal noise
 * (a moving picture whose noise keeps every frame's bits unique and the bitrate near the target,
 * like a real sensor). MPEG-TS keeps SPS/PPS in-band before every IDR (as cameras send them);
 * `-g 50` = an IDR every 2 s; `-bf 0` = no B-frames (as cameras).
 */
export function cameraClip(log: (msg: string) => void): string {
  const dir = join(tmpdir(), "strom-bench");
  mkdirSync(dir, { recursive: true });
  const clip = join(dir, "cam_1080p25_4m_20s.ts");
  if (existsSync(clip)) return clip;
  log("encoding the 20 s 1080p25 4 Mbit/s camera clip once (libx264 ultrafast, 2 s GOP)...");
  const tmp = `${clip}.part.ts`;
  execFileSync("ffmpeg", [
    ..."-hide_banner -nostdin -v error -y -f lavfi -i".split(" "),
    "testsrc2=size=1920x1080:rate=25,noise=alls=12:allf=t",
    ..."-t 20 -c:v libx264 -preset ultrafast -b:v 4M -maxrate 4M -bufsize 4M -g 50 -bf 0 -pix_fmt yuv420p -f mpegts"
      .split(" "),
    tmp,
  ], { stdio: ["ignore", "ignore", "inherit"], timeout: 300_000 });
  renameSync(tmp, clip);
  return clip;
}

/** Options of {@link startCamera}. */
export interface CameraOptions {
  /** ffmpeg's `-pkt_size` (RTP packet size) when publishing; ffmpeg's default when unset. */
  pktSize?: number;
  /** Echo the camera's and ffmpeg's stderr. */
  verbose?: boolean;
}

/**
 * The test camera (`rtsp_camera.ts`) with ffmpeg publishing `clip` into it in a loop, at its own
 * pace (`-re`), over RTSP/TCP; resolves once it is publishing.
 */
export async function startCamera(
  clip: string,
  opts: CameraOptions = {},
): Promise<{ camera: Child; ffmpeg: Child; url: string }> {
  const [cmd, args] = runtimeCommand("node", join(BENCH, "rtsp_camera.ts"), []);
  const camera = new Child("camera", cmd, args, { echoStderr: opts.verbose });
  const port = (await camera.waitFor("listening", 30_000)).port as number;
  const url = `rtsp://127.0.0.1:${port}/cam`;
  const ffmpeg = new Child("ffmpeg", "ffmpeg", [
    ..."-hide_banner -nostdin -v error -re -stream_loop -1 -i".split(" "),
    clip,
    ..."-c copy -f rtsp -rtsp_transport tcp".split(" "),
    ...(opts.pktSize ? ["-pkt_size", String(opts.pktSize)] : []),
    url,
  ], { echoStderr: opts.verbose });
  await camera.waitFor("publishing", 20_000).catch((e) => {
    throw new Error(`${e.message}\nffmpeg: ${ffmpeg.stderr}`);
  });
  return { camera, ffmpeg, url };
}

/**
 * A free loopback TCP port, from below the kernel's ephemeral range: the tests' own picker, so a
 * bench's listener cannot lose its port to an outgoing connection's local port in between.
 */
export { freePort } from "../../tests/_support/net.ts";

/** Resolves once something accepts TCP connections on the port (or rejects after `ms`). */
export async function waitForPort(port: number, ms: number, child: Child): Promise<void> {
  const deadline = performance.now() + ms;
  while (performance.now() < deadline) {
    if (child.exited) throw new Error(`${child.name} exited: ${child.stderr.slice(-2000)}`);
    const ok = await new Promise<boolean>((r) => {
      const s = connect(port, "127.0.0.1", () => {
        s.destroy();
        r(true);
      });
      s.on("error", () => r(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`${child.name}: nothing listens on ${port} after ${ms} ms: ${child.stderr.slice(-2000)}`);
}

const bundles = new Map<string, string>();
/**
 * The shipped bundle (dist/strom.mjs as `npm pack` builds it), built once per bench run into
 * node_modules/.cache/strom-bench/<folder> (its npm dependencies stay external and resolve from the
 * project's node_modules, as they do in an installed package).
 */
export function buildStromBundle(folder = "dist"): string {
  const built = bundles.get(folder);
  if (built) return built;
  const out = join(ROOT, "node_modules", ".cache", "strom-bench", folder);
  execFileSync("node", [join(ROOT, "scripts", "build", "npm.mjs"), "--outdir", out, "--no-types"], {
    stdio: ["ignore", "ignore", "inherit"],
    timeout: 120_000,
  });
  const file = join(out, "strom.mjs");
  bundles.set(folder, file);
  return file;
}

/**
 * The bundle a bench runs as strom: `prebuilt` (a bench's `--bundle` option, to compare two versions
 * in one session) when given, else the checkout's, built once by {@link buildStromBundle}.
 *
 * @throws {Error} when `prebuilt` names no file.
 */
export function stromBundle(prebuilt: string | undefined): string {
  if (!prebuilt) return buildStromBundle();
  if (!existsSync(prebuilt)) throw new Error(`--bundle: ${prebuilt} does not exist`);
  return prebuilt;
}
