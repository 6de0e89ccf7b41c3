/**
 * HLS memory benchmark (issue 15): the RSS of a strom server whose stream `cam` is a 1080p25
 * ~4 Mbit/s H.264 RTSP camera, with 1, 20 and 50 HLS viewers, and under a churn of mixed viewers.
 *
 *   node --import tsx scripts/bench/hls_memory.ts [options]
 *
 *   --tree DIR          strom checkout to run (default: this one). Measure the code before a change
 *                       from a worktree: `git worktree add /tmp/hls_before <commit>` and
 *                       `ln -s $PWD/node_modules /tmp/hls_before/`.
 *   --runtime R         node (default), deno or bun: what runs the server (`cli/main.ts serve`)
 *   --viewers 1,20,50   HLS viewer counts, one fresh server each
 *   --hold S            seconds each viewer count runs (default 30); RSS = median of the last 10 s
 *   --churn S           seconds of churn (default 150; 0 skips it)
 *   --after S           seconds to wait after the churn before the "after" RSS (default 45: the
 *                       30 s session timeout, the segmenter linger and the source grace period)
 *   --label TEXT        name of the run in the output (default: the tree's commit)
 *   --clip FILE         H.264 clip to publish (default: the RTSP bench's cached 1080p25 4 Mbit/s clip)
 *
 * Viewers are light HTTP pollers in this process that behave as hls.js does: the multivariant
 * playlist, then every second the media playlist and each segment not fetched yet (starting three
 * from the end). The churn keeps 10 viewers busy, each opening one viewer after another, round robin
 * over RTSP (TCP), /api/stream.mp4, /api/stream.ts, HLS and /api/frame.mp4, for 0.5-1.5 s each
 * (the issue's ~1,400 sessions in 150 s); HLS churn viewers leave their session to expire, as a
 * closed browser tab does. The server runs with its default `hls` settings (50 sessions, 30 s
 * timeout, 16 MB per session or feed), as shipped: the tree's `npm pack` bundle run by the runtime
 * (`strom serve`). RSS is the server process's VmRSS (no launcher in between).
 *
 * Prints a Markdown table and one JSON line per case.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Child, ROOT, type Runtime, runtimeCommand, sleep } from "./_children.ts";
import { rssBytes } from "./_proc_stats.ts";
import { cameraClip, DENO_STROM_V8_FLAGS, freePort } from "./_setup.ts";
import { playRtsp } from "./_rtsp_wire.ts";

function arg(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const BENCH = join(ROOT, "scripts", "bench");
const tree = resolve(arg("tree", ROOT)!);
const runtime = arg("runtime", "node") as Runtime;
const viewerCounts = arg("viewers", "1,20,50")!.split(",").filter(Boolean).map(Number);
const holdS = Number(arg("hold", "30"));
const churnS = Number(arg("churn", "150"));
const afterS = Number(arg("after", "45"));
const label = arg("label") ?? execFileSync("git", ["-C", tree, "rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
const MB = 1024 * 1024;

const log = (msg: string) => console.error(`[hls_memory] ${msg}`);

// ---------------------------------------------------------------------------------------------
// Camera: the RTSP fan-out bench's clip and endpoint.

function ensureClip(): string {
  return arg("clip") ?? cameraClip(log);
}

async function startCamera(clip: string): Promise<{ stop(): Promise<void>; url: string }> {
  const [cmd, args] = runtimeCommand("node", join(BENCH, "rtsp_camera.ts"), []);
  const camera = new Child("camera", cmd, args);
  const port = (await camera.waitFor("listening", 30_000)).port as number;
  const url = `rtsp://127.0.0.1:${port}/cam`;
  // deno-fmt-ignore
  const ffmpeg = new Child("ffmpeg", "ffmpeg", ["-hide_banner", "-nostdin", "-v", "error", "-re", "-stream_loop", "-1",
    "-i", clip, "-c", "copy", "-f", "rtsp", "-rtsp_transport", "tcp", url]);
  await camera.waitFor("publishing", 30_000).catch((e) => {
    throw new Error(`${e.message}\nffmpeg: ${ffmpeg.stderr}`);
  });
  return { url, stop: async () => void (await Promise.all([ffmpeg.stop(), camera.stop()])) };
}

// ---------------------------------------------------------------------------------------------
// The server under test.

let bundlePath: string | undefined;
/**
 * strom as shipped: the tree's `npm pack` bundle (scripts/build/npm.mjs), built once per run under
 * node_modules/.cache so its npm dependencies resolve from the project's node_modules.
 */
function buildBundle(): string {
  if (bundlePath) return bundlePath;
  const out = join(tree, "node_modules", ".cache", "strom-bench-hls", label);
  execFileSync("node", [join(tree, "scripts", "build", "npm.mjs"), "--outdir", out, "--no-types"], {
    cwd: tree,
    stdio: ["ignore", "ignore", "inherit"],
    timeout: 180_000,
  });
  return (bundlePath = join(out, "strom.mjs"));
}

interface Server {
  base: string;
  rtspPort: number;
  pid: number;
  stop(): Promise<void>;
}

async function startServer(cameraUrl: string): Promise<Server> {
  const [api, rtsp] = [await freePort(), await freePort()];
  const dir = join(tmpdir(), "strom-bench");
  const config = join(dir, `hls_memory_${process.pid}_${api}.yaml`);
  writeFileSync(
    config,
    [
      `api: { listen: "127.0.0.1:${api}" }`,
      `rtsp: { listen: "127.0.0.1:${rtsp}" }`,
      `webrtc: { listen: "" }`,
      `log: { level: warn }`,
      `streams:`,
      `  cam: ${cameraUrl}`,
      "",
    ].join("\n"),
  );
  const bundle = buildBundle();
  const [cmd, args] = runtime === "node"
    ? ["node", [bundle]]
    : runtime === "deno"
    ? [join(ROOT, "node_modules/.bin/deno"), ["run", "-A", DENO_STROM_V8_FLAGS, bundle]]
    : [join(ROOT, "node_modules/.bin/bun"), [bundle]];
  const child = new Child(`strom@${runtime}`, cmd, [...args, "serve", "-c", config], { cwd: tree });
  const base = `http://127.0.0.1:${api}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exited) throw new Error(`the server exited: ${child.stderr}`);
    try {
      if ((await fetch(`${base}/api/streams`)).ok) break;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) throw new Error(`the server did not answer within 60 s: ${child.stderr}`);
    await sleep(200);
  }
  return { base, rtspPort: rtsp, pid: child.pid, stop: () => child.stop() };
}

// ---------------------------------------------------------------------------------------------
// Viewers.

interface Counters {
  sessions: number;
  failed: number;
  bytes: number;
  segments: number;
  errors: Map<string, number>;
}

const newCounters = (): Counters => ({ sessions: 0, failed: 0, bytes: 0, segments: 0, errors: new Map() });

function fail(c: Counters, what: string): void {
  c.failed++;
  c.errors.set(what, (c.errors.get(what) ?? 0) + 1);
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((res) => {
    if (signal.aborted) return res();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      res();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/** An hls.js-like player of `/api/stream.m3u8?src=cam` until `signal` aborts. */
async function hlsViewer(base: string, signal: AbortSignal, c: Counters): Promise<void> {
  c.sessions++;
  try {
    const master = await fetch(`${base}/api/stream.m3u8?src=cam`, { signal });
    if (!master.ok) return fail(c, `stream.m3u8 ${master.status}`);
    const uri = (await master.text()).trim().split("\n").pop()!;
    const media = new URL(uri, `${base}/api/stream.m3u8`);
    let next = -1;
    while (!signal.aborted) {
      const res = await fetch(media, { signal });
      if (!res.ok) return fail(c, `playlist ${res.status}`);
      const lines = (await res.text()).split("\n");
      const segs = lines.filter((l) => l && !l.startsWith("#")).map((l) => ({ uri: l, n: Number(/[?&]n=(\d+)/.exec(l)?.[1]) }));
      if (next < 0 && segs.length) next = segs[Math.max(0, segs.length - 3)].n;
      for (const s of segs) {
        if (s.n < next || signal.aborted) continue;
        const seg = await fetch(new URL(s.uri, media), { signal });
        if (!seg.ok) {
          fail(c, `segment ${seg.status}`);
          await seg.body?.cancel();
        } else {
          c.bytes += (await seg.arrayBuffer()).byteLength;
          c.segments++;
        }
        next = s.n + 1;
      }
      await abortableSleep(1000, signal);
    }
  } catch (e) {
    if (!signal.aborted) fail(c, `hls: ${(e as Error).message}`);
  }
}

/** A streaming HTTP viewer (`/api/stream.mp4`, `.ts`) that reads until `signal` aborts. */
async function httpViewer(url: string, signal: AbortSignal, c: Counters): Promise<void> {
  c.sessions++;
  try {
    const res = await fetch(url, { signal });
    if (!res.ok) return fail(c, `${new URL(url).pathname} ${res.status}`);
    const reader = res.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      c.bytes += value.byteLength;
    }
  } catch (e) {
    if (!signal.aborted) fail(c, `${new URL(url).pathname}: ${(e as Error).message}`);
  }
}

async function rtspViewer(url: string, signal: AbortSignal, c: Counters): Promise<void> {
  c.sessions++;
  try {
    const s = await playRtsp(url, { onFrame: () => {}, onData: (chunk) => void (c.bytes += chunk.byteLength), timeoutMs: 10_000 });
    await abortableSleep(1e9, signal);
    s.socket.destroy();
  } catch (e) {
    if (!signal.aborted) fail(c, `rtsp: ${(e as Error).message}`);
  }
}

async function frameViewer(base: string, c: Counters): Promise<void> {
  c.sessions++;
  try {
    const res = await fetch(`${base}/api/frame.mp4?src=cam`);
    if (!res.ok) return fail(c, `frame.mp4 ${res.status}`);
    c.bytes += (await res.arrayBuffer()).byteLength;
  } catch (e) {
    fail(c, `frame.mp4: ${(e as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Measurements.

interface Result {
  tree: string;
  runtime: Runtime;
  case: string;
  idleMB: number;
  medianMB: number;
  maxMB: number;
  afterMB?: number;
  /** Consumers `/api/streams` still lists for `cam` when "after" is measured. */
  consumersAfter?: string[];
  sessions: number;
  failed: number;
  errors: Record<string, number>;
  mbitPerViewer?: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : 0;
};
const mb = (b: number) => Math.round((b / MB) * 10) / 10;

async function sampleWhile(pid: number, seconds: number, keepLast: number): Promise<{ median: number; max: number }> {
  const samples: number[] = [];
  let max = 0;
  for (let i = 0; i < seconds; i++) {
    await sleep(1000);
    const r = rssBytes(pid);
    max = Math.max(max, r);
    samples.push(r);
  }
  return { median: median(samples.slice(-keepLast)), max };
}

async function hlsCase(cameraUrl: string, n: number): Promise<Result> {
  const server = await startServer(cameraUrl);
  try {
    await sleep(3000);
    const idle = rssBytes(server.pid);
    const c = newCounters();
    const stop = new AbortController();
    const viewers: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      viewers.push(hlsViewer(server.base, stop.signal, c));
      await sleep(1000 / n); // all started within a second
    }
    const bytes0 = c.bytes;
    const t0 = Date.now();
    const rss = await sampleWhile(server.pid, holdS, 10);
    const mbit = ((c.bytes - bytes0) * 8) / ((Date.now() - t0) / 1000) / 1e6 / n;
    stop.abort();
    await Promise.allSettled(viewers);
    return {
      tree: label,
      runtime,
      case: `hls ${n}`,
      idleMB: mb(idle),
      medianMB: mb(rss.median),
      maxMB: mb(rss.max),
      sessions: c.sessions,
      failed: c.failed,
      errors: Object.fromEntries(c.errors),
      mbitPerViewer: Math.round(mbit * 100) / 100,
    };
  } finally {
    await server.stop();
  }
}

async function churnCase(cameraUrl: string): Promise<Result> {
  const server = await startServer(cameraUrl);
  try {
    await sleep(3000);
    const idle = rssBytes(server.pid);
    const c = newCounters();
    const end = Date.now() + churnS * 1000;
    const kinds = ["rtsp", "mp4", "ts", "hls", "frame.mp4"] as const;
    let turn = 0;
    const worker = async (w: number) => {
      await sleep(w * 100);
      while (Date.now() < end) {
        const kind = kinds[turn++ % kinds.length];
        const stop = new AbortController();
        const ms = 500 + Math.random() * 1000;
        const timer = setTimeout(() => stop.abort(), ms);
        const started = Date.now();
        if (kind === "rtsp") await rtspViewer(`rtsp://127.0.0.1:${server.rtspPort}/cam`, stop.signal, c);
        else if (kind === "mp4") await httpViewer(`${server.base}/api/stream.mp4?src=cam`, stop.signal, c);
        else if (kind === "ts") await httpViewer(`${server.base}/api/stream.ts?src=cam`, stop.signal, c);
        else if (kind === "hls") await hlsViewer(server.base, stop.signal, c);
        else await frameViewer(server.base, c);
        clearTimeout(timer);
        // A viewer that failed at once (refused) does not spin.
        if (Date.now() - started < 100) await sleep(100);
      }
    };
    const workers = Array.from({ length: 10 }, (_, w) => worker(w));
    const rss = await sampleWhile(server.pid, churnS, churnS);
    await Promise.allSettled(workers);
    log(`churn done (${c.sessions} sessions); waiting ${afterS} s for sessions to expire`);
    await sleep(afterS * 1000);
    const after = rssBytes(server.pid);
    // What is still attached: nothing, once sessions expired and the segmenter and source closed.
    const left = (await (await fetch(`${server.base}/api/streams?src=cam`)).json()) as { consumers: { format: string }[] };
    return {
      consumersAfter: left.consumers.map((c) => c.format),
      tree: label,
      runtime,
      case: `churn ${churnS} s`,
      idleMB: mb(idle),
      medianMB: mb(rss.median),
      maxMB: mb(rss.max),
      afterMB: mb(after),
      sessions: c.sessions,
      failed: c.failed,
      errors: Object.fromEntries(c.errors),
    };
  } finally {
    await server.stop();
  }
}

// ---------------------------------------------------------------------------------------------

const clip = ensureClip();
const camera = await startCamera(clip);
log(`camera ${camera.url}; server ${tree} (${label}) on ${runtime}`);
const results: Result[] = [];
try {
  for (const n of viewerCounts) {
    log(`${n} HLS viewers for ${holdS} s...`);
    const r = await hlsCase(camera.url, n);
    console.log(JSON.stringify(r));
    results.push(r);
  }
  if (churnS > 0) {
    log(`churn: 10 mixed viewers for ${churnS} s...`);
    const r = await churnCase(camera.url);
    console.log(JSON.stringify(r));
    results.push(r);
  }
} finally {
  await camera.stop();
}

console.log("\n| code | runtime | case | idle RSS | RSS (median) | RSS (max) | RSS after | sessions | failed | Mbit/s per viewer |");
console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
for (const r of results) {
  console.log(
    `| ${r.tree} | ${r.runtime} | ${r.case} | ${r.idleMB} MB | ${r.medianMB} MB | ${r.maxMB} MB | ` +
      `${r.afterMB !== undefined ? `${r.afterMB} MB` : "-"} | ${r.sessions} | ${r.failed}` +
      `${r.failed ? ` (${Object.entries(r.errors).map(([k, v]) => `${k}: ${v}`).join(", ")})` : ""} | ` +
      `${r.mbitPerViewer ?? "-"} |`,
  );
}
process.exit(0);
