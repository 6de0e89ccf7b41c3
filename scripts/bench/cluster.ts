/**
 * Cluster bench (issue 13): three strom nodes sharing one camera through NATS, against one node.
 *
 *   node --import tsx scripts/bench/cluster.ts [--runtime node|deno|bun] [--readers 150] [--window 10]
 *
 * Needs nats-server and ffmpeg, and the camera clip of the fan-out bench (encoded once into
 * $TMPDIR/strom-bench/cam_1080p25_4m_20s.ts by scripts/bench/rtsp_fanout.ts; made here if missing).
 *
 * Measures, in this order:
 * 1. **Extra latency through a second node**: K latency probes (rtsp_reader.ts with the camera as
 *    its tap, see _latency.ts) read the stream from the owner (camera -> owner -> reader), then from
 *    a non-owner (camera -> owner -> relay node -> reader); the difference of the medians is what
 *    the second hop adds.
 * 2. **Scale**: N readers on one node, then N/3 on each of the three nodes: readers that got >= 95 %
 *    of the source bitrate, and the strom processes' CPU per reader-second. The ratio of readers
 *    served is the scale ratio. On one machine the three nodes share its cores, so this shows the
 *    cost of the relay hops more than a capacity gain; on three machines each node has its own.
 * 3. **Takeover**: an ffmpeg reader on a non-owner, `kill -9` of the owner: time until the survivor
 *    reports a new owner in /api/cluster, and until the reader receives frames again.
 *
 * Prints a Markdown summary on stdout (progress on stderr).
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Child, killAll, ROOT, type Runtime, runtimeCommand, sleep } from "./_children.ts";
import { cpuSeconds } from "./_proc_stats.ts";
import { cameraClip, freePort } from "./_setup.ts";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const runtime = arg("runtime", "node") as Runtime;
const readersN = Number(arg("readers", "150"));
const windowS = Number(arg("window", "10"));
const probes = Number(arg("probes", "5"));
const BENCH = join(ROOT, "scripts", "bench");
const log = (m: string) => process.stderr.write(`[cluster bench] ${m}\n`);

async function waitHttp<T>(what: string, url: string, ok: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await (await fetch(url, { signal: AbortSignal.timeout(2000) })).json() as T;
      if (ok(v)) return v;
    } catch { /* not up yet */ }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

interface Node {
  name: string;
  api: string;
  rtsp: string;
  child: Child;
}

interface ReaderStats {
  readers: number;
  alive: number;
  sourceKbps: number;
  kbps: number[];
  latency: { p50Ms: number; p99Ms: number; count: number };
}

async function readWindow(target: string, n: number, tap?: string): Promise<ReaderStats & { readerPid: number }> {
  const [cmd, args] = runtimeCommand("node", join(BENCH, "rtsp_reader.ts"), ["--target", target, ...(tap ? ["--tap", tap] : [])]);
  const r = new Child(`readers ${target}`, cmd, args, { stdin: true });
  try {
    r.send(`connect ${n}`);
    await r.waitFor("connected", 120_000);
    r.send("ready");
    await r.waitFor("ready", 120_000);
    await sleep(2000);
    r.send("start");
    await r.waitFor("started", 10_000);
    await sleep(windowS * 1000);
    r.send("stop");
    const stats = (await r.waitFor("stats", 10_000)) as unknown as ReaderStats;
    return { ...stats, readerPid: r.pid };
  } finally {
    r.send("quit");
    await r.stop(2000);
  }
}

/** N readers split over `targets`, all in one window; the tap process supplies the source bitrate. */
async function scalePhase(targets: string[], n: number, tap: string, stromPids: number[]) {
  const per = targets.map((_, i) => Math.floor(n / targets.length) + (i < n % targets.length ? 1 : 0));
  const children = targets.map((t, i) => {
    const [cmd, args] = runtimeCommand("node", join(BENCH, "rtsp_reader.ts"), ["--target", t, ...(i === 0 ? ["--tap", tap] : [])]);
    return { child: new Child(`readers ${t}`, cmd, args, { stdin: true }), count: per[i] };
  });
  try {
    for (const c of children) c.child.send(`connect ${c.count}`);
    await Promise.all(children.map((c) => c.child.waitFor("connected", 180_000)));
    for (const c of children) c.child.send("ready");
    await Promise.all(children.map((c) => c.child.waitFor("ready", 180_000)));
    await sleep(3000);
    for (const c of children) c.child.send("start");
    await Promise.all(children.map((c) => c.child.waitFor("started", 10_000)));
    const cpu0 = stromPids.map((p) => cpuSeconds(p, true));
    const t0 = performance.now();
    await sleep(windowS * 1000);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = stromPids.reduce((a, p, i) => a + cpuSeconds(p, true) - cpu0[i], 0);
    for (const c of children) c.child.send("stop");
    const stats = (await Promise.all(children.map((c) => c.child.waitFor("stats", 10_000)))) as unknown as ReaderStats[];
    const source = stats[0].sourceKbps;
    const kbps = stats.flatMap((s) => s.kbps);
    return {
      readers: n,
      served: kbps.filter((k) => k >= 0.95 * source).length,
      minPct: (100 * Math.min(...kbps)) / source,
      cpuPercent: (100 * cpu) / seconds,
      cpuPerReaderSecond: cpu / (n * seconds),
    };
  } finally {
    for (const c of children) c.child.send("quit");
    await Promise.all(children.map((c) => c.child.stop(2000)));
  }
}

async function main() {
  for (const tool of ["nats-server", "ffmpeg"]) {
    try {
      execFileSync("sh", ["-c", `command -v ${tool}`]);
    } catch {
      throw new Error(`${tool} is required (scripts/install_test_deps.sh)`);
    }
  }
  const work = mkdtempSync(join(tmpdir(), "strom-cluster-bench-"));
  const file = cameraClip(log);
  try {
    // Camera: ffmpeg publishing the clip in real time into the bench's RTSP camera.
    const [ccmd, cargs] = runtimeCommand("node", join(BENCH, "rtsp_camera.ts"), []);
    const camera = new Child("camera", ccmd, cargs);
    const camPort = (await camera.waitFor("listening", 30_000)).port as number;
    const cameraUrl = `rtsp://127.0.0.1:${camPort}/cam`;
    new Child("ffmpeg", "ffmpeg", ["-hide_banner", "-nostdin", "-v", "error", "-re", "-stream_loop", "-1", "-i", file, "-c", "copy", "-f", "rtsp", "-rtsp_transport", "tcp", cameraUrl]);
    await camera.waitFor("publishing", 20_000);

    const natsPort = await freePort();
    const nats = new Child("nats", "nats-server", ["-js", "-a", "127.0.0.1", "-p", String(natsPort), "-sd", join(work, "js")]);
    await sleep(1000);
    if (nats.exited) throw new Error(`nats-server did not start: ${nats.stderr}`);

    const nodes: Node[] = [];
    for (const name of ["n1", "n2", "n3"]) {
      const api = await freePort();
      const rtsp = await freePort();
      const cfg = join(work, `${name}.yaml`);
      writeFileSync(cfg, [
        `api: {listen: "127.0.0.1:${api}"}`,
        `rtsp: {listen: "127.0.0.1:${rtsp}"}`,
        `webrtc: {listen: ""}`,
        `log: {level: warn}`,
        `streams: {cam: "${cameraUrl}"}`,
        `cluster: {node: ${name}, nats: "nats://127.0.0.1:${natsPort}", heartbeat: 1s, node_ttl: 3s,`,
        `  advertise: {api: "http://127.0.0.1:${api}", rtsp: "rtsp://127.0.0.1:${rtsp}"}}`,
        ``,
      ].join("\n"));
      const [cmd, args] = runtimeCommand(runtime, join(ROOT, "cli", "main.ts"), ["serve", "-c", cfg]);
      nodes.push({ name, api: `http://127.0.0.1:${api}`, rtsp: `rtsp://127.0.0.1:${rtsp}`, child: new Child(`strom ${name}`, cmd, args) });
    }
    type ClusterJson = { streams: Record<string, string>; nodes: unknown[] };
    for (const n of nodes) await waitHttp<ClusterJson>(`${n.name} up`, `${n.api}/api/cluster`, (v) => v.nodes.length === 3 && !!v.streams.cam, 90_000);
    const ownerName = (await waitHttp<ClusterJson>("owner", `${nodes[0].api}/api/cluster`, (v) => !!v.streams.cam, 10_000)).streams.cam;
    const owner = nodes.find((n) => n.name === ownerName)!;
    const others = nodes.filter((n) => n !== owner);
    log(`runtime ${runtime}; owner ${ownerName}`);

    // 1. Latency: camera -> owner -> probes, then camera -> owner -> relay -> probes.
    const direct = await readWindow(`${owner.rtsp}/cam`, probes, cameraUrl);
    const relayed = await readWindow(`${others[0].rtsp}/cam`, probes, cameraUrl);
    log(`latency p50 owner ${direct.latency.p50Ms.toFixed(2)} ms, via a second node ${relayed.latency.p50Ms.toFixed(2)} ms`);

    // 2. Scale: N on the owner alone, then N over the three nodes.
    const pids = nodes.map((n) => n.child.pid);
    const one = await scalePhase([`${owner.rtsp}/cam`], readersN, cameraUrl, pids);
    log(`1 node: ${one.served}/${readersN} at >= 95 %, CPU ${one.cpuPercent.toFixed(1)} %`);
    await sleep(6000); // the relays of the previous phase stop after the grace period
    const three = await scalePhase(nodes.map((n) => `${n.rtsp}/cam`), readersN, cameraUrl, pids);
    log(`3 nodes: ${three.served}/${readersN} at >= 95 %, CPU ${three.cpuPercent.toFixed(1)} %`);

    // 3. Takeover after kill -9 of the owner, seen from a reader on a survivor.
    const watcher = others[0];
    const reader = new Child("ffmpeg reader", "ffmpeg", ["-nostdin", "-v", "error", "-rtsp_transport", "tcp", "-i", `${watcher.rtsp}/cam`, "-c", "copy", "-f", "null", "-", "-progress", "pipe:2", "-stats_period", "0.05"]);
    const frames = () => {
      const all = [...reader.stderr.matchAll(/frame=(\d+)/g)];
      return all.length ? Number(all[all.length - 1][1]) : 0;
    };
    const startAt = Date.now();
    while (frames() < 50 && Date.now() - startAt < 30_000) await sleep(50);
    await sleep(1000);
    const killed = performance.now();
    const framesAtKill = frames();
    owner.child.proc.kill("SIGKILL");
    let newOwnerMs = NaN;
    let resumeMs = NaN;
    // Frames still in flight when the owner died do not count: resumed = 10 frames beyond those
    // seen 300 ms after the kill.
    await sleep(300);
    const base = Math.max(frames(), framesAtKill);
    while (performance.now() - killed < 30_000 && (Number.isNaN(newOwnerMs) || Number.isNaN(resumeMs))) {
      if (Number.isNaN(newOwnerMs)) {
        const v = await (await fetch(`${watcher.api}/api/cluster`)).json() as ClusterJson;
        if (v.streams.cam && v.streams.cam !== ownerName) newOwnerMs = performance.now() - killed;
      }
      if (Number.isNaN(resumeMs) && frames() >= base + 10) resumeMs = performance.now() - killed;
      await sleep(25);
    }
    await reader.stop(500);
    log(`takeover: new owner after ${newOwnerMs.toFixed(0)} ms, reader resumed after ${resumeMs.toFixed(0)} ms`);

    const date = new Date().toISOString().slice(0, 10);
    console.log([
      `#### ${date}, strom on ${runtime}, ${readersN} readers, ${windowS} s windows, heartbeat 1 s, node_ttl 3 s`,
      ``,
      `| measure | value |`,
      `|---|---:|`,
      `| readers at >= 95 % of source, 1 node | ${one.served}/${readersN} (min ${one.minPct.toFixed(1)} %) |`,
      `| readers at >= 95 % of source, 3 nodes | ${three.served}/${readersN} (min ${three.minPct.toFixed(1)} %) |`,
      `| scale ratio (served, 3 nodes / 1 node) | ${(three.served / Math.max(1, one.served)).toFixed(2)} |`,
      `| strom CPU, 1 node serving all (% of a core) | ${one.cpuPercent.toFixed(1)} |`,
      `| strom CPU, 3 nodes together (% of a core) | ${three.cpuPercent.toFixed(1)} |`,
      `| CPU s per reader-second, 1 node / 3 nodes | ${one.cpuPerReaderSecond.toExponential(2)} / ${three.cpuPerReaderSecond.toExponential(2)} |`,
      `| latency p50 / p99, reader on the owner | ${direct.latency.p50Ms.toFixed(2)} / ${direct.latency.p99Ms.toFixed(2)} ms |`,
      `| latency p50 / p99, reader on a second node | ${relayed.latency.p50Ms.toFixed(2)} / ${relayed.latency.p99Ms.toFixed(2)} ms |`,
      `| extra latency of the second node (p50) | ${(relayed.latency.p50Ms - direct.latency.p50Ms).toFixed(2)} ms |`,
      `| owner kill -9 -> new owner in /api/cluster | ${newOwnerMs.toFixed(0)} ms |`,
      `| owner kill -9 -> reader on a survivor gets frames again | ${resumeMs.toFixed(0)} ms |`,
    ].join("\n"));
  } finally {
    killAll();
    rmSync(work, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (error) => {
  console.error(error);
  killAll();
  process.exit(1);
});
