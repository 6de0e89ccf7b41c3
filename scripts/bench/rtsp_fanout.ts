/**
 * RTSP fan-out benchmark: one 1080p25 ~4 Mbit/s H.264 camera relayed to N readers on loopback by
 * strom (the shipped bundle, `strom serve`), by gst-rtsp-server (the C reference, in its default
 * configuration and with rate control off) and by a raw TCP relay written in C (the floor), one
 * after another in the same run, repeated --runs times (alternating servers, runtimes and runs, so
 * a busy moment on the shared machine hits all of them alike). Optionally also by the raw relay on
 * the JavaScript runtime and the C relay on two threads.
 *
 *   node --import tsx scripts/bench/rtsp_fanout.ts --runtime node --runs 1 --readers 1,50,200
 *   node --import tsx scripts/bench/rtsp_fanout.ts --runtime all --markdown --json out.json
 *
 * Options:
 *   --runtime r[,r]     runtime(s) strom and the raw relay run on: node, deno, bun, all (default node)
 *   --readers n[,n]     reader counts (default 1,50,100,200)
 *   --runs k            repeat everything k times, alternating (default 3); targets are checked per run
 *   --seconds s         measurement window per server and N (default 10)
 *   --warmup s          time between "all readers playing" and the window (default 3)
 *   --servers list      which servers, in this order, from raw,rawc,rawc2,gst,gstnorc,strom (default
 *                       rawc,gst,gstnorc,strom; "all" = all six):
 *                         raw     raw_tcp_relay.ts on --runtime (the floor on that runtime)
 *                         rawc    raw_tcp_relay.c, 1 thread (the floor in C; compiled with gcc once
 *                                 per run into <tmpdir>/strom-bench/; needs gcc)
 *                         rawc2   raw_tcp_relay.c --threads 2 (clients split over 2 threads, each
 *                                 pinned to its own CPU: the floor of a perfect 2-core fan-out)
 *                         gst     gst-rtsp-server as a new user sets it up: shared factory
 *                                 `( rtspsrc location=<camera> latency=0 protocols=tcp ! rtph264depay
 *                                 ! h264parse config-interval=-1 ! rtph264pay name=pay0 pt=96 )`,
 *                                 rate control on (its default); skipped when not installed
 *                         gstnorc the same with rate control off (forwards on arrival)
 *                         strom   strom on --runtime (see --strom)
 *   --strom how         serve (default): the shipped bundle, built by scripts/build/npm.mjs, run as
 *                       `<runtime> strom.mjs serve -c <config>` with `streams: {cam: <camera>}`;
 *                       lib: strom_rtsp_server.ts (StreamHub + RtspServer only; --memory-log)
 *   --bundle path       with --strom serve: run this prebuilt strom.mjs instead of building one from the
 *                       checkout (to compare two versions: build each with scripts/build/npm.mjs --outdir
 *                       inside the checkout's node_modules/.cache, so its npm dependencies resolve)
 *   --reader-runtime r  runtime of the reader process (default node)
 *   --probes k          latency probes among the N readers (default 20; in their own process)
 *   --node-loader l     with --strom lib, and for the raw relay, on Node: bundle (esbuild bundle run
 *                       by plain node; default) or tsx (node --import tsx, dev mode)
 *   --server-node-flags "f ..."  extra flags for strom and the raw relay when they run on Node as a
 *                       bundle, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" or "--trace-gc"
 *   --clip path         H.264 clip to publish (default: encoded once into the temp dir and reused)
 *   --wait-idle s       before each window, wait up to s seconds until other processes on the machine
 *                       use < 25 % of a core (the "other CPU %" column shows what they used during it)
 *   --markdown          also print Markdown tables (for docs/performance.md)
 *   --json path         write all results as JSON
 *   --verbose           echo children's stderr
 *
 * Set-up (see docs/performance.md for the reasoning):
 *   ffmpeg -re -stream_loop -1 -c copy --(RTSP ANNOUNCE/RECORD)--> camera (rtsp_camera.ts)
 *   camera --(RTSP PLAY, TCP)--> strom | gst-rtsp-server | raw relay (TS | C) --(TCP)--> N readers
 *   camera --(RTSP PLAY, TCP)--> tap (source bitrate and latency reference)
 * Every server pulls the same packets from the same camera; one server is loaded at a time. The N
 * readers live in one process, except K latency probes spread through the connection order, which
 * live with the tap in a second, lightly loaded, higher-priority process (see _latency.ts).
 *
 * Per server and N: server CPU seconds per reader-second (/proc CPU time of the server process, all
 * threads, over the window), peak RSS, per-reader bitrate vs the source, dropped packets (sequence
 * gaps), p50/p99 added latency, throughput vs the raw relay and CPU ratios vs gst and raw. For rawc
 * and rawc2 also the send loop: how long the kernel took to take one frame for all N sockets
 * (keyframes apart), which raw_tcp_relay.c reports on SIGUSR1. The target lines (issue 15) check,
 * per run: CPU at 100 and 200 readers against both gst configurations and the C relay, p99 latency
 * at 1, 50 and 200 readers against the C relay's, and RSS at 200 readers (on Deno against 64 MB
 * plus an idle `deno run` hello-world server, measured in each run). Every run also measures an idle
 * hello-world HTTP server on each runtime (Node and Bun: `node:http`), the RSS floor of any server
 * there, and reports strom's RSS at 200 readers above it.
 *
 * @module
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, setPriority, tmpdir } from "node:os";
import { basename, join } from "node:path";
import { Child, killAll, ROOT, type Runtime, runtimeCommand, sleep } from "./_children.ts";
import { cameraClip, DENO_STROM_V8_FLAGS, freePort, startCamera, stromBundle, waitForPort } from "./_setup.ts";
import { cpuBetween, cpuSample, cpuSeconds, ForeignCpu, rssBytes } from "./_proc_stats.ts";
import {
  fanoutNotes,
  type FanoutStats,
  markdownTable,
  type PhaseResult,
  summaryMarkdown,
  targetChecks,
  textTable,
} from "./_report.ts";

// ---------------------------------------------------------------------------------------------
// Options

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const flag = (name: string) => process.argv.includes(`--${name}`);
const list = (v: string | undefined, d: string) => (v ?? d).split(",").map((s) => s.trim()).filter(Boolean);

const runtimes = list(arg("runtime") === "all" ? "node,deno,bun" : arg("runtime"), "node") as Runtime[];
const readerCounts = list(arg("readers"), "1,50,100,200").map(Number);
const runs = Number(arg("runs") ?? 3);
const stromHow = arg("strom") ?? "serve";
if (stromHow !== "serve" && stromHow !== "lib") throw new Error(`--strom: serve or lib, not "${stromHow}"`);
const windowSeconds = Number(arg("seconds") ?? 10);
const warmupSeconds = Number(arg("warmup") ?? 3);
const ALL_SERVERS: PhaseResult["server"][] = ["raw", "rawc", "rawc2", "gst", "gstnorc", "strom"];
const servers =
  (arg("servers") === "all" ? ALL_SERVERS : list(arg("servers"), "rawc,gst,gstnorc,strom")) as PhaseResult[
    "server"
  ][];
const readerRuntime = (arg("reader-runtime") ?? "node") as Runtime;
const nodeLoader = arg("node-loader") ?? "bundle";
if (nodeLoader !== "bundle" && nodeLoader !== "tsx") {
  throw new Error(`--node-loader: bundle or tsx, not "${nodeLoader}"`);
}
const verbose = flag("verbose");
const serverNodeFlags = list(arg("server-node-flags")?.replaceAll(" ", ","), "");
const waitIdleSeconds = Number(arg("wait-idle") ?? 0);
const probesPerPhase = Number(arg("probes") ?? 20);
for (const r of [...runtimes, readerRuntime]) {
  if (!["node", "deno", "bun"].includes(r)) throw new Error(`Unknown runtime "${r}": use node, deno or bun`);
}
for (const s of servers) {
  if (!ALL_SERVERS.includes(s)) {
    throw new Error(`Unknown server "${s}": use ${ALL_SERVERS.join(", ")} or all`);
  }
}
if (readerCounts.some((n) => !Number.isInteger(n) || n < 1 || n > 2000)) {
  throw new Error("--readers: integers 1..2000");
}
if (!(windowSeconds >= 1 && windowSeconds <= 300)) throw new Error("--seconds: 1..300");

const BENCH = join(ROOT, "scripts", "bench");
const log = (msg: string) => console.error(`[bench] ${msg}`);

// ---------------------------------------------------------------------------------------------
// Dependencies

function hasCommand(cmd: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

const GST_PACKAGES = [
  "python3-gi",
  "gir1.2-gst-rtsp-server-1.0",
  "gstreamer1.0-plugins-good",
  "gstreamer1.0-plugins-bad",
  "gstreamer1.0-plugins-base",
];
const GST_CHECK = [
  "import gi",
  "gi.require_version('Gst','1.0'); gi.require_version('GstRtsp','1.0'); gi.require_version('GstRtspServer','1.0')",
  "from gi.repository import Gst, GstRtspServer",
  "Gst.init(None)",
  "assert all(Gst.ElementFactory.find(e) for e in ('rtspsrc','rtph264depay','h264parse','rtph264pay')), 'missing elements'",
].join("\n");

/** A python3 that can import GstRtspServer: Debian's /usr/bin/python3 first (pyenv shims lack python3-gi). */
function findGstPython(): string | undefined {
  for (const py of ["/usr/bin/python3", "python3"]) {
    if (spawnSync(py, ["-c", GST_CHECK], { stdio: "ignore" }).status === 0) return py;
  }
  return undefined;
}

function ensureGst(): string | undefined {
  let py = findGstPython();
  if (py) return py;
  const isRoot = process.getuid?.() === 0;
  if (isRoot && hasCommand("apt-get")) {
    log(`installing ${GST_PACKAGES.join(" ")} with apt-get (gst-rtsp-server reference)...`);
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    let r = spawnSync("apt-get", ["install", "-y", "-qq", ...GST_PACKAGES], { stdio: "ignore", env });
    if (r.status !== 0) {
      spawnSync("apt-get", ["update", "-qq"], { stdio: "ignore", env });
      r = spawnSync("apt-get", ["install", "-y", "-qq", ...GST_PACKAGES], { stdio: "ignore", env });
    }
    py = findGstPython();
    if (py) return py;
  }
  log("gst-rtsp-server is not available, so the C reference is skipped. Install it with:");
  log(`  sudo apt-get install -y ${GST_PACKAGES.join(" ")}`);
  return undefined;
}

let rawcBinary: string | undefined;
/**
 * Compiles raw_tcp_relay.c into the temp dir (once per run) and returns the binary: -O2 as a
 * release build, with the warnings the file is kept clean under.
 */
function compileRawC(): string {
  if (rawcBinary) return rawcBinary;
  if (!hasCommand("gcc")) {
    throw new Error(
      "gcc is required for the rawc/rawc2 servers (sudo apt-get install -y gcc), or leave them out of --servers",
    );
  }
  const dir = join(tmpdir(), "strom-bench");
  mkdirSync(dir, { recursive: true });
  const out = join(dir, "raw_tcp_relay_c");
  const src = join(BENCH, "raw_tcp_relay.c");
  const r = spawnSync("gcc", ["-O2", "-Wall", "-Wextra", "-pthread", "-o", out, src], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`gcc failed to compile ${src}:\n${r.stderr || r.error?.message}`);
  if (r.stderr.trim()) log(`gcc warnings for ${src}:\n${r.stderr.trim()}`);
  return (rawcBinary = out);
}

// ---------------------------------------------------------------------------------------------
// Processes

async function startServer(
  server: PhaseResult["server"],
  runtime: Runtime,
  cameraUrl: string,
  python?: string,
): Promise<{ child: Child; target: string; idleRssMB?: number }> {
  if (server === "gst" || server === "gstnorc") {
    const rc = server === "gst" ? "on" : "off";
    const child = new Child(server, python!, [
      join(BENCH, "gst_rtsp_relay.py"),
      "--source",
      cameraUrl,
      "--rate-control",
      rc,
    ], { echoStderr: verbose });
    const port = (await child.waitFor("listening", 30_000)).port as number;
    return { child, target: `rtsp://127.0.0.1:${port}/cam` };
  }
  if (server === "rawc" || server === "rawc2") {
    const threads = server === "rawc2" ? "2" : "1";
    const child = new Child(server, compileRawC(), ["--source", cameraUrl, "--threads", threads], {
      echoStderr: verbose,
    });
    const port = (await child.waitFor("listening", 30_000)).port as number;
    return { child, target: `tcp://127.0.0.1:${port}` };
  }
  if (server === "strom" && stromHow === "serve") return await startStromServe(runtime, cameraUrl);
  const file = join(BENCH, server === "raw" ? "raw_tcp_relay.ts" : "strom_rtsp_server.ts");
  const [cmd, args] = runtime === "node" && nodeLoader === "bundle"
    ? ["node", [...serverNodeFlags, bundleForNode(file), "--source", cameraUrl]]
    : runtimeCommand(runtime, file, ["--source", cameraUrl]);
  const child = new Child(`${server}@${runtime}`, cmd, args, { echoStderr: verbose });
  const port = (await child.waitFor("listening", 60_000)).port as number;
  return { child, target: server === "raw" ? `tcp://127.0.0.1:${port}` : `rtsp://127.0.0.1:${port}/cam` };
}

/**
 * strom as shipped: `strom serve` from the bundle, on the runtime, with a config naming the camera
 * as stream `cam` (the API on a free loopback port, every other module at its default).
 */
async function startStromServe(
  runtime: Runtime,
  cameraUrl: string,
): Promise<{ child: Child; target: string; idleRssMB: number }> {
  const bundle = stromBundle(arg("bundle"));
  const [rtspPort, apiPort] = [await freePort(), await freePort()];
  const dir = join(tmpdir(), "strom-bench");
  mkdirSync(dir, { recursive: true });
  const config = join(dir, `strom_${process.pid}_${rtspPort}.yaml`);
  writeFileSync(
    config,
    [
      `api:\n  listen: "127.0.0.1:${apiPort}"`,
      `rtsp:\n  listen: "127.0.0.1:${rtspPort}"`,
      `log:\n  level: warn`,
      `streams:\n  cam: ${cameraUrl}`,
      "",
    ].join("\n"),
  );
  const [cmd, args] = runtime === "node"
    ? ["node", [...serverNodeFlags, bundle]]
    : runtime === "deno"
    ? [join(ROOT, "node_modules/.bin/deno"), ["run", "-A", DENO_STROM_V8_FLAGS, bundle]]
    : [join(ROOT, "node_modules/.bin/bun"), [bundle]];
  const child = new Child(`strom@${runtime}`, cmd, [...args, "serve", "-c", config], { echoStderr: verbose });
  await waitForPort(rtspPort, 60_000, child);
  await sleep(2000);
  return { child, target: `rtsp://127.0.0.1:${rtspPort}/cam`, idleRssMB: rssBytes(child.pid) / 1e6 };
}

/**
 * An idle hello-world HTTP server on `runtime`, measured in the same run: what the runtime itself
 * takes to serve HTTP, the floor under any server's RSS. Deno: `Deno.serve` under `deno run` (the
 * issue's Deno RSS target adds it to 64 MB). Node and Bun: `node:http`, which strom serves its API on
 * (server/serve/node.ts), for comparison only (their target is 64 MB flat).
 */
async function helloIdleRssMB(runtime: string): Promise<number> {
  const dir = join(tmpdir(), "strom-bench");
  mkdirSync(dir, { recursive: true });
  let child: Child;
  if (runtime === "deno") {
    const file = join(dir, "deno_hello.ts");
    writeFileSync(
      file,
      `const s = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: ({ port }) => console.log(JSON.stringify({ event: "listening", port })) }, () => new Response("hello"));\n`,
    );
    child = new Child("deno-hello", join(ROOT, "node_modules/.bin/deno"), ["run", "-A", file]);
  } else {
    const file = join(dir, "node_http_hello.mjs");
    writeFileSync(
      file,
      `import { createServer } from "node:http";\n` +
        `const s = createServer((_q, r) => r.end("hello"));\n` +
        `s.listen(0, "127.0.0.1", () => console.log(JSON.stringify({ event: "listening", port: s.address().port })));\n`,
    );
    const cmd = runtime === "bun" ? join(ROOT, "node_modules/.bin/bun") : process.execPath;
    child = new Child(`${runtime}-hello`, cmd, [file]);
  }
  try {
    const port = (await child.waitFor("listening", 30_000)).port as number;
    await fetch(`http://127.0.0.1:${port}/`).then((r) => r.text());
    await sleep(2000);
    return rssBytes(child.pid) / 1e6;
  } finally {
    await child.stop(1000);
  }
}

/**
 * Bundles a server script into one .mjs for plain `node`, as strom ships for Node (npm package /
 * single file). Running it through `--import tsx` instead would add tsx's loader thread (~30 MB RSS)
 * and an esbuild child process to what is measured.
 */
function bundleForNode(file: string): string {
  mkdirSync(join(tmpdir(), "strom-bench"), { recursive: true });
  const out = join(tmpdir(), "strom-bench", `${basename(file, ".ts")}.mjs`);
  execFileSync(join(ROOT, "node_modules", ".bin", "esbuild"), [
    file,
    "--bundle",
    "--platform=node",
    "--format=esm",
    "--target=node20",
    `--outfile=${out}`,
    "--log-level=warning",
  ], { stdio: ["ignore", "ignore", "inherit"], timeout: 60_000 });
  return out;
}

/**
 * raw_tcp_relay.c's send-loop timings since the previous call (SIGUSR1 makes it print them and
 * start over); undefined when it does not answer.
 */
async function fanoutStats(child: Child): Promise<FanoutStats | undefined> {
  child.proc.kill("SIGUSR1");
  return (await child.waitFor("fanout", 5000).catch(() => undefined)) as FanoutStats | undefined;
}

/** Waits (up to --wait-idle seconds) until processes outside the bench use < 25 % of one core. */
async function waitForQuietMachine(): Promise<void> {
  if (!waitIdleSeconds) return;
  const deadline = performance.now() + waitIdleSeconds * 1000;
  for (;;) {
    const f = new ForeignCpu(process.pid);
    await sleep(1000);
    const busy = f.percent();
    if (busy < 25) return;
    if (performance.now() > deadline) {
      log(`other processes still use ${busy.toFixed(0)} % of a core; measuring anyway`);
      return;
    }
    log(`waiting for a quiet machine: other processes use ${busy.toFixed(0)} % of a core`);
    await sleep(4000);
  }
}

interface ReaderStats {
  seconds: number;
  readers: number;
  alive: number;
  sourceKbps: number;
  minKbps: number;
  avgKbps: number;
  kbps: number[];
  lostPackets: number;
  latency: PhaseResult["latency"];
  unmatched: number;
  errors: string[];
}

/**
 * Where the latency probes sit among N readers: K = min(N, --probes) indices spread evenly over the
 * connection order, so they sample early, middle and late positions of the server's fan-out loop.
 */
function probePositions(n: number, k: number): number[] {
  const count = Math.min(n, k);
  return Array.from({ length: count }, (_, i) => Math.floor(((i + 0.5) * n) / count));
}

async function runPhase(
  runtime: Runtime,
  server: PhaseResult["server"],
  serverChild: Child,
  target: string,
  cameraUrl: string,
  n: number,
  run: number,
): Promise<PhaseResult> {
  const readerFile = join(BENCH, "rtsp_reader.ts");
  const [bcmd, bargs] = runtimeCommand(readerRuntime, readerFile, ["--target", target]);
  const [pcmd, pargs] = runtimeCommand(readerRuntime, readerFile, ["--target", target, "--tap", cameraUrl]);
  const bulk = new Child(`readers(${server},${n})`, bcmd, bargs, { stdin: true, echoStderr: verbose });
  const probe = new Child(`probes(${server},${n})`, pcmd, pargs, { stdin: true, echoStderr: verbose });
  // The probe process handles only a few sockets; a higher priority gets it scheduled as soon as
  // data arrives on this 2-core machine, which approximates kernel receive timestamps.
  try {
    setPriority(probe.pid, -10);
  } catch { /* not root: measured at normal priority */ }
  const both = [bulk, probe];
  try {
    let placed = 0;
    const place = async (child: Child, count: number) => {
      if (count <= 0) return;
      child.send(`connect ${count}`);
      await child.waitFor("connected", 120_000);
      placed += count;
    };
    for (const pos of probePositions(n, probesPerPhase)) {
      await place(bulk, pos - placed);
      await place(probe, 1);
    }
    await place(bulk, n - placed);
    for (const c of both) c.send("ready");
    const ready = await Promise.all(both.map((c) => c.waitFor("ready", 120_000)));
    const failed = ready.reduce((a, r) => a + (r.failed as number), 0);
    if (failed > 0) {
      log(`${server} N=${n}: ${failed} readers failed: ${JSON.stringify(ready.map((r) => r.errors))}`);
    }
    await sleep(warmupSeconds * 1000);
    await waitForQuietMachine();
    for (const c of both) c.send("start");
    await Promise.all(both.map((c) => c.waitFor("started", 10_000)));
    const isC = server === "rawc" || server === "rawc2";
    if (isC) await fanoutStats(serverChild); // only resets its timings to the window
    const t0 = performance.now();
    const foreign = new ForeignCpu(process.pid);
    const cpu0 = cpuSample(serverChild.pid);
    const rcpu0 = cpuSeconds(bulk.pid) + cpuSeconds(probe.pid);
    let rss = rssBytes(serverChild.pid);
    const end = t0 + windowSeconds * 1000;
    while (performance.now() < end) {
      await sleep(Math.min(500, end - performance.now()));
      rss = Math.max(rss, rssBytes(serverChild.pid));
    }
    const cpu1 = cpuSample(serverChild.pid);
    const rcpu1 = cpuSeconds(bulk.pid) + cpuSeconds(probe.pid);
    const seconds = (performance.now() - t0) / 1000;
    const foreignPercent = foreign.percent();
    const fanout = isC ? await fanoutStats(serverChild) : undefined;
    for (const c of both) c.send("stop");
    const [b, p] = (await Promise.all(both.map((c) =>
      c.waitFor("stats", 10_000)
    ))) as unknown as ReaderStats[];
    const kbps = [...b.kbps, ...p.kbps];
    const cpu = cpuBetween(cpu0, cpu1);
    return {
      run,
      runtime,
      server,
      readers: n,
      connected: b.alive + p.alive,
      windowSeconds: seconds,
      cpuSeconds: cpu,
      cpuPerReaderSecond: cpu / (n * seconds),
      cpuPercent: (100 * cpu) / seconds,
      systemPercent: (100 * (cpu1.systemSeconds - cpu0.systemSeconds)) / seconds,
      rssMB: rss / 1e6,
      readerCpuPercent: (100 * (rcpu1 - rcpu0)) / seconds,
      foreignCpuPercent: foreignPercent,
      sourceKbps: p.sourceKbps,
      minKbps: Math.min(...kbps),
      avgKbps: kbps.reduce((a, x) => a + x, 0) / kbps.length,
      readersAt95: kbps.filter((k) => k >= 0.95 * p.sourceKbps).length,
      lostPackets: b.lostPackets + p.lostPackets,
      latency: p.latency,
      unmatched: p.unmatched,
      errors: [...b.errors, ...p.errors],
      fanout,
    };
  } finally {
    for (const c of both) c.send("quit");
    await Promise.race([
      Promise.all(
        both.map((c) => new Promise<void>((r) => (c.exited ? r() : c.proc.once("exit", () => r())))),
      ),
      sleep(5000),
    ]);
    await Promise.all(both.map((c) => c.stop(1000)));
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  if (!hasCommand("ffmpeg")) throw new Error("ffmpeg is required (apt-get install -y ffmpeg)");
  const python = servers.includes("gst") ? ensureGst() : undefined;
  if (servers.includes("rawc") || servers.includes("rawc2")) log(`compiled ${compileRawC()}`);
  const activeServers = servers.filter((s) => s !== "gst" || python);
  const clip = arg("clip") || cameraClip(log);
  const results: PhaseResult[] = [];
  const cpuModel = cpus()[0]?.model ?? "unknown CPU";
  log(
    `${availableParallelism()} CPUs (${cpuModel}); window ${windowSeconds} s, warm-up ${warmupSeconds} s; readers on ${readerRuntime}`,
  );

  const { camera, ffmpeg, url: cameraUrl } = await startCamera(clip, { verbose });
  log(`camera ${cameraUrl} (ffmpeg pid ${ffmpeg.pid})`);
  // Per runtime, per run: an idle hello-world HTTP server's RSS (see helloIdleRssMB).
  const helloIdle = new Map<string, number[]>(runtimes.map((rt) => [rt, []]));
  try {
    for (let run = 1; run <= runs; run++) {
      for (const runtime of runtimes) {
        if (activeServers.includes("strom")) {
          const mb = await helloIdleRssMB(runtime);
          helloIdle.get(runtime)!.push(mb);
          log(`run ${run}: idle ${runtime} hello-world HTTP server: ${mb.toFixed(1)} MB RSS`);
        }
        const started = new Map<PhaseResult["server"], { child: Child; target: string; idleRssMB?: number }>();
        try {
          for (const server of activeServers) {
            started.set(server, await startServer(server, runtime, cameraUrl, python));
            const where = server === "raw" || server === "strom" ? `@${runtime}` : "";
            log(`${server}${where} listening: ${started.get(server)!.target}`);
          }
          for (const n of readerCounts) {
            for (const server of activeServers) {
              const s = started.get(server)!;
              if (s.child.exited) throw new Error(`${server} exited: ${s.child.stderr.slice(-2000)}`);
              if (camera.exited || ffmpeg.exited) {
                throw new Error(`the camera stopped: ${camera.stderr}${ffmpeg.stderr}`.slice(-2000));
              }
              log(`run ${run}, ${runtime}: ${server} with ${n} readers...`);
              const r = await runPhase(runtime, server, s.child, s.target, cameraUrl, n, run);
              if (s.idleRssMB !== undefined) r.idleRssMB = s.idleRssMB;
              results.push(r);
              log(
                `  cpu ${r.cpuPercent.toFixed(1)} % core (system ${r.systemPercent.toFixed(1)}), rss ${r.rssMB.toFixed(1)} MB, min ${
                  (100 * r.minKbps / r.sourceKbps).toFixed(1)
                } % of source, p99 ${r.latency.p99Ms.toFixed(2)} ms`,
              );
              await sleep(1000);
            }
            const rows = results.filter((r) => r.run === run && r.runtime === runtime && r.readers === n);
            console.log(
              `\nrun ${run}, ${runtime}, ${n} readers (window ${windowSeconds} s, source ${
                rows[0]?.sourceKbps.toFixed(0)
              } kbit/s):`,
            );
            console.log(textTable(rows));
            for (const line of fanoutNotes(rows)) console.log(`  ${line}`);
          }
        } finally {
          await Promise.all([...started.values()].map((s) => s.child.stop()));
        }
      }
    }
  } finally {
    await Promise.all([ffmpeg.stop(), camera.stop()]);
  }

  console.log("\nTargets of issue 15, per run (strom's figure, then the reference's):");
  for (const runtime of runtimes) {
    for (let run = 1; run <= runs; run++) {
      const idle = helloIdle.get(runtime)![run - 1];
      for (const line of targetChecks(results.filter((r) => r.run === run), runtime, idle)) {
        console.log(`  run ${run} ${line}`);
      }
    }
  }
  for (const [rt, mbs] of helloIdle) {
    if (mbs.length) console.log(`  idle ${rt} hello-world HTTP server RSS per run: ${mbs.map((x) => x.toFixed(1)).join(", ")} MB`);
  }

  if (flag("markdown")) {
    console.log(
      `\n<!-- rtsp_fanout: ${
        new Date().toISOString()
      }, ${availableParallelism()} x ${cpuModel}, window ${windowSeconds} s, ${runs} run(s) -->`,
    );
    console.log(`\n${summaryMarkdown(results, runtimes, runs, helloIdle)}`);
    for (let run = 1; run <= runs; run++) {
      for (const runtime of runtimes) {
        console.log(`\n#### Run ${run}: strom on ${runtime}\n`);
        const rows = results.filter((r) => r.run === run && r.runtime === runtime);
        console.log(markdownTable(rows));
        const notes = fanoutNotes(rows);
        if (notes.length) console.log(`\nC relay send loop (kernel time to take one frame for all readers):\n`);
        for (const line of notes) console.log(`- ${line}`);
      }
    }
  }
  const jsonPath = arg("json");
  if (jsonPath) {
    writeFileSync(
      jsonPath,
      JSON.stringify({ date: new Date().toISOString(), cpuModel, helloIdleRssMB: Object.fromEntries(helloIdle), results }, null, 2),
    );
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`[bench] failed: ${(e as Error).stack ?? e}`);
    killAll();
    process.exit(1);
  },
);
