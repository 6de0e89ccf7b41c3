/**
 * WebRTC fan-out benchmark: one 1080p25 ~4 Mbit/s H.264 camera played by N WebRTC viewers (werift
 * peers doing WHEP against `strom serve`, the shipped bundle) on loopback, and, as the per-packet
 * floor, the same RTP packets sent unencrypted by a raw UDP relay (raw_udp_relay.ts, on the same
 * runtime, with its native UDP socket) to N plain UDP sockets, one after the other in the same run.
 *
 *   node --import tsx scripts/bench/webrtc_fanout.ts --runtime all --viewers 1,20,50 --markdown
 *
 * Options:
 *   --runtime r[,r]   node, deno, bun, all (default node): what strom and the raw relay run on
 *   --viewers n[,n]   viewer counts (default 1,20,50)
 *   --seconds s       measurement window (default 8)
 *   --warmup s        between "all viewers receive" and the window (default 2)
 *   --per-process k   viewers per viewer process (default 25; viewer processes run on Node)
 *   --mux on|off      on (default): `webrtc.listen` on one UDP port (strom's default, go2rtc's :8555);
 *                     off: each peer on werift's own socket (listen "")
 *   --servers list    raw,rawsrtp,strom (default all three, in this order); rawsrtp is the raw
 *                     relay with `--srtp`: each packet protected per destination with strom's
 *                     SrtpProtector, the floor of an SRTP relay on the runtime
 *   --deno-net native|dgram  strom on Deno with --unstable-net (default: Deno.listenDatagram for
 *                     strom's own UDP sockets) or without (node:dgram)
 *   --node-flags "f"  extra flags for strom on Node, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
 *   --bundle path     run this prebuilt strom.mjs instead of building one from the checkout (to
 *                     compare two versions: build each with scripts/build/npm.mjs --outdir inside the
 *                     checkout's node_modules/.cache, so its npm dependencies resolve)
 *   --markdown        also print a Markdown table (docs/performance.md)
 *   --json path       write the rows as JSON
 *   --verbose         echo children's stderr
 *
 * Per server and N: server CPU seconds per viewer-second (/proc, all threads, over the window),
 * CPU % of one core, peak RSS, the viewers' bitrate against the camera's (min and average, and how
 * many got >= 95 %), for strom the WHEP connect time (POST to first RTP datagram, per viewer) and
 * the ratio of strom's CPU per viewer-second to the raw relay's (the issue's target: <= 2x) and to
 * the SRTP relay's (how far strom is from the floor that includes the encryption).
 * Viewers count RTP bytes and do not decrypt (see webrtc_viewer.ts), so their processes stay light.
 * The camera is rtsp_camera.ts fed by `ffmpeg -re -stream_loop -1 -c copy -pkt_size 1200`.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { availableParallelism, cpus, tmpdir } from "node:os";
import { basename, join } from "node:path";
import { Child, killAll, ROOT, type Runtime, runtimeCommand, sleep } from "./_children.ts";
import { cameraClip, DENO_STROM_V8_FLAGS, freePort, startCamera, stromBundle, waitForPort } from "./_setup.ts";
import { cpuBetween, cpuSample, ForeignCpu, rssBytes } from "./_proc_stats.ts";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const flag = (name: string) => process.argv.includes(`--${name}`);
const list = (v: string | undefined, d: string) => (v ?? d).split(",").map((s) => s.trim()).filter(Boolean);

const runtimes = list(arg("runtime") === "all" ? "node,deno,bun" : arg("runtime"), "node") as Runtime[];
const viewerCounts = list(arg("viewers"), "1,20,50").map(Number);
const windowSeconds = Number(arg("seconds") ?? 8); // a multiple of the clip's 2 s GOP
const warmupSeconds = Number(arg("warmup") ?? 2);
const perProcess = Number(arg("per-process") ?? 25);
const mux = (arg("mux") ?? "on") === "on";
type Server = "raw" | "rawsrtp" | "strom";
const servers = list(arg("servers"), "raw,rawsrtp,strom") as Server[];
for (const s of servers) {
  if (!["raw", "rawsrtp", "strom"].includes(s)) throw new Error(`Unknown server "${s}"`);
}
const verbose = flag("verbose");
const denoNative = (arg("deno-net") ?? "native") === "native";
const nodeFlags = list(arg("node-flags")?.replaceAll(" ", ","), "");
for (const r of runtimes) if (!["node", "deno", "bun"].includes(r)) throw new Error(`Unknown runtime "${r}"`);
if (viewerCounts.some((n) => !Number.isInteger(n) || n < 1 || n > 500)) throw new Error("--viewers: 1..500");

const BENCH = join(ROOT, "scripts", "bench");
const DENO = join(ROOT, "node_modules/.bin/deno");
const BUN = join(ROOT, "node_modules/.bin/bun");
const log = (msg: string) => console.error(`[bench] ${msg}`);

interface Row {
  runtime: Runtime;
  server: Server;
  viewers: number;
  playing: number;
  seconds: number;
  cpuSeconds: number;
  cpuPerViewerSecond: number;
  cpuPercent: number;
  rssMB: number;
  sourceKbps: number;
  minKbps: number;
  avgKbps: number;
  at95: number;
  /** strom: WHEP POST to first RTP datagram, per viewer, ms. */
  connectMs: number[];
  viewerCpuPercent: number;
  foreignCpuPercent: number;
  /** strom: frames dropped by its viewers' queues so far (all viewers still attached). */
  drops: number;
}

/**
 * The command that runs a script on a runtime, with no launcher or loader thread in between: on
 * Node an esbuild bundle, on Deno with --unstable-net (Deno.listenDatagram).
 */
function command(runtime: Runtime, file: string, args: string[]): [string, string[]] {
  if (runtime === "deno") return [DENO, ["run", "-A", "--unstable-net", file, ...args]];
  if (runtime === "bun") return [BUN, [file, ...args]];
  if (file.endsWith(".mjs")) return ["node", [file, ...args]];
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
  return ["node", [out, ...args]];
}

async function startStrom(runtime: Runtime, cameraUrl: string): Promise<{ child: Child; api: string }> {
  const [rtspPort, apiPort] = [await freePort(), await freePort()];
  const dir = join(tmpdir(), "strom-bench");
  const config = join(dir, `strom_webrtc_${process.pid}_${apiPort}.yaml`);
  writeFileSync(
    config,
    [
      `api:\n  listen: "127.0.0.1:${apiPort}"`,
      `rtsp:\n  listen: "127.0.0.1:${rtspPort}"`,
      `webrtc:\n  listen: "${mux ? "127.0.0.1:0" : ""}"\n  max_peers: 1000`,
      `log:\n  level: warn`,
      `streams:\n  cam: ${cameraUrl}`,
      "",
    ].join("\n"),
  );
  let [cmd, args] = command(runtime, stromBundle(arg("bundle")), ["serve", "-c", config]);
  if (runtime === "node") args = [...nodeFlags, ...args];
  if (runtime === "deno" && !denoNative) args = args.filter((a) => a !== "--unstable-net");
  if (runtime === "deno") args = [args[0], DENO_STROM_V8_FLAGS, ...args.slice(1)];
  const child = new Child(`strom@${runtime}`, cmd, args, { echoStderr: verbose });
  await waitForPort(apiPort, 60_000, child);
  return { child, api: `http://127.0.0.1:${apiPort}` };
}

/** Viewer processes for n viewers, `perProcess` each. */
function viewerProcesses(n: number): { children: Child[]; counts: number[] } {
  const children: Child[] = [];
  const counts: number[] = [];
  for (let left = n, i = 0; left > 0; i++) {
    const k = Math.min(perProcess, left);
    left -= k;
    const [cmd, args] = runtimeCommand("node", join(BENCH, "webrtc_viewer.ts"), []);
    children.push(new Child(`viewers#${i}`, cmd, args, { stdin: true, echoStderr: verbose }));
    counts.push(k);
  }
  return { children, counts };
}

let sourceBytes = 0;
let sourceSeconds = 0;

/** Frames strom's viewers dropped so far (queue overflow: a viewer that could not keep up). */
async function stromDrops(api: string): Promise<number> {
  try {
    const body = JSON.stringify(await (await fetch(`${api}/api/streams`)).json());
    let n = 0;
    for (const m of body.matchAll(/"drops":(\d+)/g)) n += Number(m[1]);
    return n;
  } catch {
    return NaN;
  }
}

const cpuOf = (pids: number[]) => pids.reduce((a, p) => a + cpuSample(p).ticksSeconds, 0);

async function phase(
  runtime: Runtime,
  server: Server,
  target: Child,
  relay: Child,
  api: string,
  n: number,
): Promise<Row> {
  const { children, counts } = viewerProcesses(n);
  try {
    const connectMs: number[] = [];
    let playing = 0;
    if (server !== "strom") {
      const all: number[] = [];
      for (let i = 0; i < children.length; i++) {
        children[i].send(`udp ${counts[i]}`);
        all.push(...((await children[i].waitFor("udp", 30_000)).ports as number[]));
      }
      relay.send(`add ${all.join(",")}`);
      playing = all.length;
    } else {
      // One process at a time: WHEP set-ups of 50 peers at once would be a connect storm.
      for (let i = 0; i < children.length; i++) {
        children[i].send(`whep ${api}/api/webrtc?src=cam ${counts[i]}`);
        const ev = await children[i].waitFor("connected", 30_000 + counts[i] * 20_000);
        playing += ev.ok as number;
        connectMs.push(...(ev.firstPacketMs as number[]));
        if ((ev.failed as number) > 0) log(`  ${ev.failed} viewers failed: ${JSON.stringify(ev.errors)}`);
        const slow = (ev.slow as string[] | undefined) ?? [];
        if (slow.length) log(`  first RTP after more than 1 s (viewers#${i}): ${slow.join("; ")}`);
      }
    }
    await sleep(warmupSeconds * 1000);
    for (const c of children) c.send("start");
    await Promise.all(children.map((c) => c.waitFor("started", 10_000)));
    relay.send("mark");
    await relay.waitFor("mark", 5000);
    const foreign = new ForeignCpu(process.pid);
    const c0 = cpuSample(target.pid);
    const v0 = cpuOf(children.map((c) => c.pid));
    const t0 = performance.now();
    let rss = rssBytes(target.pid);
    const end = t0 + windowSeconds * 1000;
    while (performance.now() < end) {
      await sleep(Math.min(500, end - performance.now()));
      rss = Math.max(rss, rssBytes(target.pid));
    }
    const c1 = cpuSample(target.pid);
    const v1 = cpuOf(children.map((c) => c.pid));
    const seconds = (performance.now() - t0) / 1000;
    const foreignPercent = foreign.percent();
    for (const c of children) c.send("stop");
    relay.send("mark");
    const [mark, ...stats] = await Promise.all([
      relay.waitFor("mark", 5000),
      ...children.map((c) => c.waitFor("stats", 10_000)),
    ]);
    // The camera's rate over the whole run so far (many GOPs): a window's own count swings by a
    // keyframe depending on where its edges fall, and so would the viewers' percentages.
    sourceBytes += mark.bytes as number;
    sourceSeconds += mark.seconds as number;
    const sourceKbps = (8 * sourceBytes) / sourceSeconds / 1000;
    const drops = server === "strom" ? await stromDrops(api) : 0;
    const kbps = stats.flatMap((s) =>
      (s.bytes as number[]).map((b) => (8 * b) / (s.seconds as number) / 1000)
    );
    while (kbps.length < n) kbps.push(0);
    const cpu = cpuBetween(c0, c1);
    return {
      runtime,
      server,
      viewers: n,
      playing,
      seconds,
      cpuSeconds: cpu,
      cpuPerViewerSecond: cpu / (n * seconds),
      cpuPercent: (100 * cpu) / seconds,
      rssMB: rss / 1e6,
      sourceKbps,
      minKbps: Math.min(...kbps),
      avgKbps: kbps.reduce((a, b) => a + b, 0) / kbps.length,
      at95: kbps.filter((k) => k >= 0.95 * sourceKbps).length,
      connectMs,
      viewerCpuPercent: (100 * (v1 - v0)) / seconds,
      foreignCpuPercent: foreignPercent,
      drops,
    };
  } finally {
    if (server !== "strom") relay.send("clear");
    for (const c of children) c.send("quit");
    await Promise.race([
      Promise.all(
        children.map((c) => new Promise<void>((r) => (c.exited ? r() : c.proc.once("exit", () => r())))),
      ),
      sleep(5000),
    ]);
    await Promise.all(children.map((c) => c.stop(1000)));
  }
}

const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : "-");
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
};

const HEAD = [
  "runtime",
  "server",
  "N",
  "playing",
  "CPU ms/viewer-s",
  "CPU % core",
  "RSS MB",
  "min % src",
  "avg % src",
  ">=95 %",
  "connect ms p50/max",
  "drops",
  "CPU / raw",
  "CPU / raw+SRTP",
  "viewer CPU %",
  "other CPU %",
];

function cells(rows: Row[], r: Row): string[] {
  const raw = rows.find((x) => x.runtime === r.runtime && x.viewers === r.viewers && x.server === "raw");
  const rawSrtp = rows.find((x) =>
    x.runtime === r.runtime && x.viewers === r.viewers && x.server === "rawsrtp"
  );
  return [
    r.runtime,
    r.server,
    String(r.viewers),
    `${r.playing}/${r.viewers}`,
    fmt(1000 * r.cpuPerViewerSecond, 2),
    fmt(r.cpuPercent),
    fmt(r.rssMB),
    fmt((100 * r.minKbps) / r.sourceKbps),
    fmt((100 * r.avgKbps) / r.sourceKbps),
    `${r.at95}/${r.viewers}`,
    r.connectMs.length ? `${fmt(median(r.connectMs), 0)}/${fmt(Math.max(...r.connectMs), 0)}` : "-",
    r.server === "strom" ? String(r.drops) : "-",
    r.server !== "raw" && raw ? fmt(r.cpuPerViewerSecond / raw.cpuPerViewerSecond, 2) : "-",
    r.server === "strom" && rawSrtp ? fmt(r.cpuPerViewerSecond / rawSrtp.cpuPerViewerSecond, 2) : "-",
    fmt(r.viewerCpuPercent, 0),
    fmt(r.foreignCpuPercent, 0),
  ];
}

function textTable(rows: Row[]): string {
  const body = rows.map((r) => cells(rows, r));
  const widths = HEAD.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  return [HEAD, ...body].map((c) => c.map((x, i) => x.padStart(widths[i])).join("  ")).join("\n");
}

function markdownTable(rows: Row[]): string {
  return [
    `| ${HEAD.join(" | ")} |`,
    `|${HEAD.map((_, i) => (i < 2 ? "---" : "---:")).join("|")}|`,
    ...rows.map((r) => `| ${cells(rows, r).join(" | ")} |`),
  ].join("\n");
}

async function main(): Promise<void> {
  const clip = cameraClip(log);
  const cpuModel = cpus()[0]?.model ?? "unknown CPU";
  log(`${availableParallelism()} CPUs (${cpuModel}); window ${windowSeconds} s; mux ${mux ? "on" : "off"}`);
  const { camera, ffmpeg, url } = await startCamera(clip, { pktSize: 1200, verbose });
  const rows: Row[] = [];
  try {
    for (const runtime of runtimes) {
      const [rcmd, rargs] = command(runtime, join(BENCH, "raw_udp_relay.ts"), ["--source", url]);
      const relay = new Child(`raw@${runtime}`, rcmd, rargs, { stdin: true, echoStderr: verbose });
      const [scmd, sargs] = command(runtime, join(BENCH, "raw_udp_relay.ts"), ["--source", url, "--srtp"]);
      const srtpRelay = servers.includes("rawsrtp")
        ? new Child(`rawsrtp@${runtime}`, scmd, sargs, { stdin: true, echoStderr: verbose })
        : undefined;
      const strom = servers.includes("strom") ? await startStrom(runtime, url) : undefined;
      try {
        log(`raw relay on ${runtime}: ${(await relay.waitFor("listening", 60_000)).udp}`);
        if (srtpRelay) await srtpRelay.waitFor("listening", 60_000);
        for (const n of viewerCounts) {
          for (const server of servers) {
            const target = server === "raw" ? relay : server === "rawsrtp" ? srtpRelay! : strom!.child;
            if (target.exited) throw new Error(`${target.name} exited: ${target.stderr.slice(-2000)}`);
            log(`${runtime}: ${server} with ${n} viewers...`);
            // Each relay plays the camera itself; its marks give the source's rate.
            const r = await phase(
              runtime,
              server,
              target,
              server === "rawsrtp" ? srtpRelay! : relay,
              strom?.api ?? "",
              n,
            );
            rows.push(r);
            log(
              `  ${fmt(r.cpuPercent)} % core, ${fmt(r.rssMB)} MB, min ${
                fmt((100 * r.minKbps) / r.sourceKbps)
              } % of source`,
            );
            await sleep(server === "strom" ? 2000 : 500); // sessions end (DTLS close) before the next phase
          }
        }
      } finally {
        await Promise.all([relay.stop(), srtpRelay?.stop(), strom?.child.stop()]);
      }
      console.log(`\n${runtime} (window ${windowSeconds} s, mux ${mux ? "on" : "off"}):`);
      console.log(textTable(rows.filter((r) => r.runtime === runtime)));
    }
  } finally {
    await Promise.all([ffmpeg.stop(), camera.stop()]);
  }
  console.log(
    "\nTargets (issue 9): strom CPU per viewer-second <= 2x the raw UDP relay's; RSS at 50 <= 120 MB; every viewer >= 95 %:",
  );
  for (const r of rows.filter((x) => x.server === "strom")) {
    const raw = rows.find((x) => x.runtime === r.runtime && x.viewers === r.viewers && x.server === "raw");
    const ratio = raw ? r.cpuPerViewerSecond / raw.cpuPerViewerSecond : NaN;
    const rawSrtp = rows.find((x) =>
      x.runtime === r.runtime && x.viewers === r.viewers && x.server === "rawsrtp"
    );
    const lines = [
      `CPU ${fmt(ratio, 2)}x raw ${ratio <= 2 ? "PASS" : "FAIL"}` +
      (rawSrtp ? ` (${fmt(r.cpuPerViewerSecond / rawSrtp.cpuPerViewerSecond, 2)}x the SRTP relay)` : ""),
      `bitrate ${r.at95}/${r.viewers} >= 95 % ${r.at95 === r.viewers ? "PASS" : "FAIL"}`,
    ];
    if (r.viewers === 50) lines.push(`RSS ${fmt(r.rssMB)} MB ${r.rssMB <= 120 ? "PASS" : "FAIL"}`);
    console.log(`  ${r.runtime} N=${r.viewers}: ${lines.join("; ")}`);
  }
  if (flag("markdown")) {
    console.log(
      `\n<!-- webrtc_fanout: ${
        new Date().toISOString()
      }, ${availableParallelism()} x ${cpuModel}, window ${windowSeconds} s, mux ${mux ? "on" : "off"} -->\n`,
    );
    console.log(markdownTable(rows));
  }
  const jsonPath = arg("json");
  if (jsonPath) {
    writeFileSync(jsonPath, JSON.stringify({ date: new Date().toISOString(), cpuModel, mux, rows }, null, 2));
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
