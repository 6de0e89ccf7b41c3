/**
 * RTMP fan-out benchmark: one 1080p25 ~4 Mbit/s H.264 + AAC publish (ffmpeg, `-c copy` from a clip
 * encoded once) relayed to N RTMP players on loopback, by strom and by nginx-rtmp (Debian
 * `libnginx-mod-rtmp`, C), one after another in the same run.
 *
 *   node --import tsx scripts/bench/rtmp_fanout.ts --players 1,50,200 --seconds 10 [--markdown]
 *
 * Options:
 *   --players n[,n]   player counts (default 1,50,200)
 *   --seconds s       measurement window per server and N (default 10)
 *   --warmup s        time between "all players playing" and the window (default 3)
 *   --servers list    from strom,nginx (default both; nginx is skipped when not installed)
 *   --node-loader l   bundle (esbuild bundle run by plain node, as shipped; default) or tsx
 *   --markdown        also print a Markdown table (for docs/performance.md)
 *
 * Per server and N: server CPU (% of one core, and ms per player-second: the process's CPU time over
 * the window / (N x window)), peak RSS, and each player's bitrate against the source's. The
 * players (scripts/bench/rtmp_reader.ts) live in one Node process and only count bytes.
 * node-media-server, named by the issue as the JS reference, is not in this run: it is an npm
 * package the project does not depend on.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { Child, killAll, ROOT, sleep } from "./_children.ts";
import { cpuBetween, cpuSample, rssBytes } from "./_proc_stats.ts";
import { freePort } from "./_setup.ts";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const players = (arg("players") ?? "1,50,200").split(",").map(Number);
const seconds = Number(arg("seconds") ?? 10);
const warmup = Number(arg("warmup") ?? 3);
const servers = (arg("servers") ?? "strom,nginx").split(",");
const nodeLoader = arg("node-loader") ?? "bundle";
const markdown = process.argv.includes("--markdown");
const RTMP_MODULE = "/usr/lib/nginx/modules/ngx_rtmp_module.so";
const work = join(tmpdir(), "strom-bench");
mkdirSync(work, { recursive: true });

interface Row {
  server: string;
  n: number;
  cpuPct: number;
  msPerPlayerSecond: number;
  rssMb: number;
  minMbps: number;
  medianMbps: number;
  sourceMbps: number;
}

function clip(): { path: string; mbps: number } {
  const path = join(work, "rtmp_1080p25_4M.flv");
  if (!existsSync(path)) {
    console.error("encoding the 1080p25 clip once (about a minute)...");
    execFileSync("ffmpeg", [
      "-hide_banner", "-loglevel", "error", "-y",
      "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=25",
      "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
      "-t", "20", "-c:v", "libx264", "-preset", "veryfast", "-b:v", "4M", "-maxrate", "4M", "-bufsize", "8M",
      "-g", "50", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", path,
    ], { stdio: "inherit" });
  }
  const out = execFileSync("ffprobe", ["-v", "error", "-show_entries", "format=bit_rate", "-of", "csv=p=0", path]);
  return { path, mbps: Number(String(out).trim()) / 1e6 };
}

function listening(port: number): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  return readFileSync("/proc/net/tcp", "utf8").split("\n").some((l) => {
    const f = l.trim().split(/\s+/);
    return f[1]?.endsWith(hex) && f[3] === "0A";
  });
}

async function until(what: string, check: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

function bundle(file: string): string {
  const out = join(work, `${basename(file, ".ts")}.mjs`);
  execFileSync(join(ROOT, "node_modules", ".bin", "esbuild"), [
    file, "--bundle", "--platform=node", "--format=esm", "--target=node20", `--outfile=${out}`, "--log-level=warning",
  ], { stdio: ["ignore", "ignore", "inherit"] });
  return out;
}

function nodeScript(file: string): [string, string[]] {
  const path = join(ROOT, file);
  return nodeLoader === "tsx" ? ["node", ["--import", "tsx", path]] : ["node", [bundle(path)]];
}

async function startServer(name: string): Promise<{ child: Child; port: number; cleanup: () => void }> {
  if (name === "strom") {
    const [cmd, args] = nodeScript("scripts/bench/strom_rtmp_server.ts");
    const child = new Child("strom", cmd, [...args, "--port", "0"]);
    const ev = await child.waitFor("listening", 30_000);
    return { child, port: Number(ev.port), cleanup: () => {} };
  }
  const dir = mkdtempSync(join(work, "nginx-"));
  const port = await freePort();
  writeFileSync(join(dir, "nginx.conf"), [
    `load_module ${RTMP_MODULE};`, "daemon off;", "master_process off;",
    `pid ${join(dir, "nginx.pid")};`, `error_log ${join(dir, "error.log")} warn;`,
    "events { worker_connections 4096; }",
    "rtmp { server {", `  listen 127.0.0.1:${port};`, "  chunk_size 4096;",
    "  application live { live on; record off; }", "} }",
  ].join("\n"));
  const child = new Child("nginx", "nginx", ["-p", dir, "-c", join(dir, "nginx.conf")]);
  await until("nginx to listen", () => listening(port), 10_000);
  return { child, port, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

async function phase(server: string, n: number, source: { path: string; mbps: number }): Promise<Row> {
  const s = await startServer(server);
  const url = `rtmp://127.0.0.1:${s.port}/live/cam`;
  const publisher = new Child("ffmpeg", "ffmpeg", [
    "-hide_banner", "-loglevel", "error", "-re", "-stream_loop", "-1", "-i", source.path, "-c", "copy", "-f", "flv", url,
  ]);
  try {
    await sleep(2000);
    const [cmd, args] = nodeScript("scripts/bench/rtmp_reader.ts");
    const reader = new Child("players", cmd, [
      ...args, "--url", url, "--n", String(n), "--warmup", String(warmup), "--seconds", String(seconds),
    ]);
    await reader.waitFor("playing", 90_000);
    await reader.waitFor("window", (warmup + 10) * 1000);
    const a = cpuSample(s.child.pid);
    let rss = rssBytes(s.child.pid);
    const timer = setInterval(() => (rss = Math.max(rss, rssBytes(s.child.pid))), 500);
    const result = await reader.waitFor("result", (seconds + 10) * 1000);
    const b = cpuSample(s.child.pid);
    clearInterval(timer);
    await reader.stop();
    const cpu = cpuBetween(a, b);
    const mbps = result.mbps as number[];
    return {
      server,
      n,
      cpuPct: (cpu / seconds) * 100,
      msPerPlayerSecond: (cpu * 1000) / (n * seconds),
      rssMb: rss / 1024 / 1024,
      minMbps: mbps[0],
      medianMbps: mbps[mbps.length >> 1],
      sourceMbps: source.mbps,
    };
  } finally {
    await publisher.stop();
    await s.child.stop();
    s.cleanup();
  }
}

const source = clip();
const rows: Row[] = [];
for (const server of servers) {
  if (server === "nginx" && !existsSync(RTMP_MODULE)) {
    console.error("nginx-rtmp not installed (apt-get install nginx-light libnginx-mod-rtmp): skipped");
    continue;
  }
  for (const n of players) {
    const row = await phase(server, n, source);
    rows.push(row);
    console.error(JSON.stringify(row));
  }
}
killAll();

const header = ["server", "players", "CPU % of a core", "CPU ms / player-s", "peak RSS MB", "min Mbit/s", "median Mbit/s", "min / source"];
const lines = rows.map((r) => [
  r.server, String(r.n), r.cpuPct.toFixed(1), r.msPerPlayerSecond.toFixed(3), r.rssMb.toFixed(1),
  r.minMbps.toFixed(2), r.medianMbps.toFixed(2), `${((r.minMbps / r.sourceMbps) * 100).toFixed(0)} %`,
]);
console.log([header, ...lines].map((l) => l.map((c, i) => c.padEnd(i ? 17 : 8)).join("")).join("\n"));
if (markdown) {
  console.log(`\n| ${header.join(" | ")} |\n| ${header.map(() => "---").join(" | ")} |`);
  for (const l of lines) console.log(`| ${l.join(" | ")} |`);
}
const maxN = Math.max(...players);
for (const r of rows.filter((x) => x.server === "strom" && x.n === maxN)) {
  const nginx = rows.find((x) => x.server === "nginx" && x.n === maxN);
  console.log(`\ntargets at ${maxN} players (source ${source.mbps.toFixed(2)} Mbit/s):`);
  console.log(`  every player >= 95 % of the source: ${(r.minMbps / r.sourceMbps * 100).toFixed(0)} % ${r.minMbps >= 0.95 * r.sourceMbps ? "ok" : "MISSED"}`);
  if (nginx) {
    const ratio = r.msPerPlayerSecond / nginx.msPerPlayerSecond;
    console.log(`  CPU per player-second <= 1.5x nginx-rtmp: ${ratio.toFixed(2)}x ${ratio <= 1.5 ? "ok" : "MISSED"}`);
  }
  console.log(`  RSS <= 80 MB: ${r.rssMb.toFixed(1)} MB ${r.rssMb <= 80 ? "ok" : "MISSED"}`);
}
