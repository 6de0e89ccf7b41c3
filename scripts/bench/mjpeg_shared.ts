/**
 * MJPEG viewers benchmark (issue 15): CPU of a strom server (with its ffmpeg children) while 1 and
 * 10 viewers read `/api/stream.mjpeg?src=demo` (the built-in 640x360 25 fps H.264 demo stream,
 * transcoded to JPEG by ffmpeg), and how many ffmpeg children it runs.
 *
 *   node --import tsx scripts/bench/mjpeg_shared.ts [options]
 *
 *   --tree DIR        strom checkout to run (default: this one). Measure the code before a change
 *                     from a worktree: `git worktree add /tmp/mjpeg_before <commit>` and
 *                     `ln -s $PWD/node_modules /tmp/mjpeg_before/`.
 *   --viewers 1,10    viewer counts, one fresh server each
 *   --hold S          seconds measured per case (default 20), after 3 s of warm-up
 *   --label TEXT      name of the run in the output (default: the tree's commit)
 *
 * The server runs from source (`node --import tsx cli/main.ts serve`). CPU is user+system seconds of
 * the server process and its live descendants over the hold, as a percentage of one core.
 * Prints a Markdown table and one JSON line per case.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Child, ROOT, sleep } from "./_children.ts";
import { cpuSeconds, processTree, rssBytes } from "./_proc_stats.ts";
import { freePort } from "./_setup.ts";

function arg(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const tree = resolve(arg("tree", ROOT)!);
const viewerCounts = arg("viewers", "1,10")!.split(",").filter(Boolean).map(Number);
const holdS = Number(arg("hold", "20"));
const label = arg("label") ??
  execFileSync("git", ["-C", tree, "rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
const log = (msg: string) => console.error(`[mjpeg_shared] ${msg}`);

async function startServer(): Promise<{ base: string; pid: number; stop(): Promise<void> }> {
  const api = await freePort();
  const dir = join(tmpdir(), "strom-bench");
  mkdirSync(dir, { recursive: true });
  const config = join(dir, `mjpeg_shared_${process.pid}_${api}.yaml`);
  writeFileSync(
    config,
    [
      `api: { listen: "127.0.0.1:${api}" }`,
      `rtsp: { listen: "" }`,
      `webrtc: { listen: "" }`,
      `log: { level: warn }`,
      `streams:`,
      `  demo: "demo:"`,
      "",
    ]
      .join("\n"),
  );
  const child = new Child("strom", "node", [
    "--import",
    "tsx",
    join(tree, "cli", "main.ts"),
    "serve",
    "-c",
    config,
  ], { cwd: tree });
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
  return { base, pid: child.pid, stop: () => child.stop() };
}

/** Reads the MJPEG body until aborted; counts bytes and JPEG parts. */
async function viewer(
  base: string,
  signal: AbortSignal,
  stats: { bytes: number; parts: number },
): Promise<void> {
  try {
    const res = await fetch(`${base}/api/stream.mjpeg?src=demo`, { signal });
    const reader = res.body!.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      stats.bytes += value.byteLength;
      // Each part starts with "--frame\r\n"; count the boundaries (approximate at chunk edges).
      for (let i = 0; i + 1 < value.length; i++) {
        if (value[i] === 0xff && value[i + 1] === 0xd8) stats.parts++;
      }
    }
  } catch { /* aborted */ }
}

function ffmpegChildren(pid: number): number {
  let n = 0;
  for (const p of processTree(pid)) {
    if (p === pid) continue;
    try {
      if (execFileSync("cat", [`/proc/${p}/comm`], { encoding: "utf8" }).trim() === "ffmpeg") n++;
    } catch { /* gone */ }
  }
  return n;
}

const rows: {
  label: string;
  viewers: number;
  cpuPct: number;
  ffmpeg: number;
  rssMB: number;
  fpsPerViewer: number;
}[] = [];
for (const n of viewerCounts) {
  const server = await startServer();
  const abort = new AbortController();
  const stats = Array.from({ length: n }, () => ({ bytes: 0, parts: 0 }));
  const running = stats.map((s) => viewer(server.base, abort.signal, s));
  await sleep(3_000);
  const cpu0 = cpuSeconds(server.pid, true);
  const parts0 = stats.reduce((a, s) => a + s.parts, 0);
  const t0 = Date.now();
  await sleep(holdS * 1000);
  const cpu1 = cpuSeconds(server.pid, true);
  const secs = (Date.now() - t0) / 1000;
  const parts1 = stats.reduce((a, s) => a + s.parts, 0);
  const row = {
    label,
    viewers: n,
    cpuPct: Math.round(((cpu1 - cpu0) / secs) * 1000) / 10,
    ffmpeg: ffmpegChildren(server.pid),
    rssMB: Math.round(rssBytes(server.pid, true) / 1024 / 1024),
    fpsPerViewer: Math.round(((parts1 - parts0) / secs / n) * 10) / 10,
  };
  rows.push(row);
  log(JSON.stringify(row));
  abort.abort();
  await Promise.allSettled(running);
  await server.stop();
}

console.log(
  `| run | viewers | CPU (% of a core, server + ffmpeg) | ffmpeg children | RSS MB (tree) | JPEGs/s per viewer |`,
);
console.log(`|---|---|---|---|---|---|`);
for (const r of rows) {
  console.log(`| ${r.label} | ${r.viewers} | ${r.cpuPct} | ${r.ffmpeg} | ${r.rssMB} | ${r.fpsPerViewer} |`);
}
for (const r of rows) console.log(JSON.stringify(r));
