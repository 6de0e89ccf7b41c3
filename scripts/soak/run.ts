/**
 * Soak test (issue 12): churns viewers and publishers over every protocol against one `strom serve`
 * process for minutes, then checks that its sockets, child processes, server-side counters and RSS
 * come back to the baseline taken before the churn.
 *
 *   node --import tsx scripts/soak/run.ts --minutes N [--runtime node|deno|bun] [--workers 2]
 *     [--settle 45] [--webrtc-listen shared|per-session]
 *
 * The server runs `cli/main.ts serve` on the chosen runtime with the built-in `demo:` camera as
 * stream `cam`, push-only streams `push` (RTSP) and `push_rtmp`, RTSP and RTMP listeners and one viewer account
 * (`api.auth.users`, local_auth on, so loopback clients log in too). Each worker loops, round robin,
 * over these clients, each connecting, playing ~1-2 s and dropping (or leaving uncleanly):
 *
 * - RTSP viewer (ffmpeg, TCP), RTMP viewer (ffmpeg), RTSP publisher into `push` (ffmpeg ANNOUNCE)
 *   with an RTSP viewer of `push`, RTMP publisher into `push_rtmp` (ffmpeg -f flv)
 * - HTTP MP4 and MPEG-TS (fetch, aborted mid-stream), MJPEG (transcoded by an ffmpeg child of the
 *   server), HLS (playlist + a segment, the session left to expire), WebSocket MSE (binary frames,
 *   then close), a snapshot (/api/frame.jpeg)
 * - WebRTC viewers (werift, scripts/soak/webrtc_peer.ts) over WHEP and over `/api/ws` webrtc/offer,
 *   each in its own process, SIGKILLed once 50 RTP packets arrived (no DELETE, no DTLS close)
 * - wrong passwords on HTTP and RTSP (401 expected), and half-open sockets that send half a request
 *
 * Baseline and "after" are read from outside the process: open fds (`/proc/<pid>/fd`), sockets
 * among them, child processes, RSS, plus the server's own `/metrics` (consumers, producers,
 * connections open). The "after" reading waits for the idle grace period and the HLS session
 * timeout first. Timers inside the server are not visible from outside; stream source timers stop
 * with their sources, which the consumer/producer counts show.
 *
 * Prints a Markdown table and one JSON line; exits 1 when something did not come back.
 *
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { processTree, rssBytes } from "../bench/_proc_stats.ts";
import { freePort } from "../../tests/_support/net.ts";

const ROOT = resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..", "..");
const { values: opts } = parseArgs({
  options: {
    minutes: { type: "string", default: "3" },
    runtime: { type: "string", default: "node" },
    workers: { type: "string", default: "2" },
    settle: { type: "string", default: "45" },
    // "shared": one ICE port for every WebRTC session, as `strom serve` runs by default (:8555);
    // "per-session": `webrtc.listen: ""`, a UDP socket per session.
    "webrtc-listen": { type: "string", default: "shared" },
  },
});
const minutes = Number(opts.minutes);
const runtime = opts.runtime as "node" | "deno" | "bun";
const USER = "soak";
const PASS = "soak-pass";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function serverCommand(config: string): [string, string[]] {
  const main = join(ROOT, "cli/main.ts");
  switch (runtime) {
    case "deno":
      return [join(ROOT, "node_modules/.bin/deno"), ["run", "-A", "--no-check", main, "serve", "-c", config]];
    case "bun":
      return [join(ROOT, "node_modules/.bin/bun"), [main, "serve", "-c", config]];
    default:
      return [process.execPath, ["--import", "tsx", main, "serve", "-c", config]];
  }
}

/** Runs a command to its end or `ms`, whichever first; resolves with its exit code (null: killed). */
function runFor(cmd: string, args: string[], ms: number): Promise<number | null> {
  return new Promise((resolveRun) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "ignore"] });
    const timer = setTimeout(() => child.kill("SIGKILL"), ms);
    child.once("close", (code) => (clearTimeout(timer), resolveRun(code)));
    child.once("error", () => (clearTimeout(timer), resolveRun(-1)));
  });
}

interface Snapshot {
  fds: number;
  sockets: number;
  children: number;
  rssMb: number;
  consumers: number;
  producers: number;
  connections: number;
}

function fdStats(pid: number): { fds: number; sockets: number } {
  let fds = 0;
  let sockets = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    fds++;
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith("socket:")) sockets++;
    } catch { /* closed meanwhile */ }
  }
  return { fds, sockets };
}

function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

async function snapshot(pid: number, base: string, auth: string): Promise<Snapshot> {
  const metrics = await (await fetch(`${base}/metrics`, { headers: { authorization: auth } })).text();
  return {
    ...fdStats(pid),
    children: processTree(pid).length - 1,
    rssMb: Math.round(rssBytes(pid) / 1e5) / 10,
    consumers: metricSum(metrics, "strom_consumers"),
    producers: metricSum(metrics, "strom_source_up"),
    // The /metrics request itself is one open HTTP connection.
    connections: metricSum(metrics, "strom_connections_open") - 1,
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "strom-soak-"));
  const [api, rtsp, rtmp, ice] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const config = join(dir, "strom.yaml");
  writeFileSync(config, [
    `api:`,
    `  listen: "127.0.0.1:${api}"`,
    `  local_auth: true`,
    `  auth: {max_failed_logins: 0, users: {${USER}: {password: ${PASS}, role: admin}}}`,
    `rtsp: {listen: "127.0.0.1:${rtsp}"}`,
    `rtmp: {listen: "127.0.0.1:${rtmp}"}`,
    opts["webrtc-listen"] === "per-session" ? `webrtc: {listen: ""}` : `webrtc: {listen: "127.0.0.1:${ice}"}`,
    `metrics: {enabled: true}`,
    `limits: {connection_timeout: 5s}`,
    `log: {level: warn}`,
    `streams:`,
    `  cam: "demo:"`,
    `  push: []`,
    `  push_rtmp: []`,
    "",
  ].join("\n"));
  const [cmd, args] = serverCommand(config);
  const server: ChildProcess = spawn(cmd, args, { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] });
  let serverErr = "";
  server.stderr!.on("data", (d) => (serverErr = (serverErr + String(d)).slice(-4000)));
  const base = `http://127.0.0.1:${api}`;
  const auth = `Basic ${btoa(`${USER}:${PASS}`)}`;
  const cred = `${USER}:${PASS}@`;
  for (let i = 0; i < 150; i++) {
    if (await fetch(`${base}/api/health/live`).then((r) => r.ok, () => false)) break;
    if (server.exitCode !== null) throw new Error(`strom exited: ${serverErr}`);
    await sleep(200);
  }
  const pid = server.pid!;
  const counts: Record<string, { ok: number; failed: number }> = {};
  const count = (name: string, ok: boolean) => {
    const c = (counts[name] ??= { ok: 0, failed: 0 });
    if (ok) c.ok++;
    else c.failed++;
  };

  const readSome = async (url: string, bytes: number, ms: number, headers: Record<string, string> = { authorization: auth }) => {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), ms);
    let got = 0;
    try {
      const res = await fetch(url, { signal: abort.signal, headers });
      if (!res.ok || !res.body) return false;
      const reader = res.body.getReader();
      while (got < bytes) {
        const { done, value } = await reader.read();
        if (done) break;
        got += value.length;
      }
      abort.abort();
      return got >= bytes;
    } catch {
      return got >= bytes;
    } finally {
      clearTimeout(timer);
    }
  };

  /** Runs scripts/soak/webrtc_peer.ts until it reports RTP (true) or fails, then SIGKILLs it. */
  const webrtcViewer = (mode: "whep" | "ws") => new Promise<boolean>((done) => {
    const child = spawn(process.execPath, [
      "--import", "tsx", join(ROOT, "scripts/soak/webrtc_peer.ts"), mode, `http://${cred}127.0.0.1:${api}`, "cam", "50",
    ], { cwd: ROOT, stdio: ["ignore", "pipe", "ignore"] });
    let ok = false;
    let out = "";
    const started = Date.now();
    const kill = () => child.kill("SIGKILL");
    const timer = setTimeout(kill, 20_000);
    child.stdout!.on("data", (d) => {
      out = (out + String(d)).slice(-300);
      if (!ok && /^rtp /m.test(out)) (ok = true, kill());
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      if (!ok) console.error(`webrtc ${mode} viewer failed after ${Date.now() - started} ms (${signal ?? code}): ${out.trim() || "no output"}`);
      done(ok);
    });
    child.once("error", () => (clearTimeout(timer), done(false)));
  });

  const ffmpeg = ["-hide_banner", "-nostdin", "-v", "error"];
  const clients: [string, () => Promise<boolean>][] = [
    ["rtsp viewer", async () =>
      (await runFor("ffmpeg", [...ffmpeg, "-rtsp_transport", "tcp", "-i", `rtsp://${cred}127.0.0.1:${rtsp}/cam`, "-t", "1.5", "-f", "null", "-"], 15_000)) === 0],
    ["rtmp viewer", async () =>
      (await runFor("ffmpeg", [...ffmpeg, "-i", `rtmp://127.0.0.1:${rtmp}/cam?user=${USER}&pass=${PASS}`, "-t", "1.5", "-f", "null", "-"], 15_000)) === 0],
    ["rtsp publisher + viewer", async () => {
      const pub = runFor("ffmpeg", [...ffmpeg, "-rtsp_transport", "tcp", "-i", `rtsp://${cred}127.0.0.1:${rtsp}/cam`, "-c", "copy", "-t", "4", "-f", "rtsp", "-rtsp_transport", "tcp", `rtsp://${cred}127.0.0.1:${rtsp}/push`], 20_000);
      await sleep(1500);
      const view = await runFor("ffmpeg", [...ffmpeg, "-rtsp_transport", "tcp", "-i", `rtsp://${cred}127.0.0.1:${rtsp}/push`, "-t", "1", "-f", "null", "-"], 15_000);
      return (await pub) === 0 && view === 0;
    }],
    ["rtmp publisher", async () =>
      (await runFor("ffmpeg", [...ffmpeg, "-rtsp_transport", "tcp", "-i", `rtsp://${cred}127.0.0.1:${rtsp}/cam`, "-c:v", "copy", "-c:a", "aac", "-t", "3", "-f", "flv", `rtmp://127.0.0.1:${rtmp}/push_rtmp?user=${USER}&pass=${PASS}`], 20_000)) === 0],
    ["http mp4", () => readSome(`${base}/api/stream.mp4?src=cam`, 100_000, 8000)],
    ["http mpegts", () => readSome(`${base}/api/stream.ts?src=cam`, 100_000, 8000)],
    ["http mjpeg (ffmpeg child)", () => readSome(`${base}/api/stream.mjpeg?src=cam`, 50_000, 10_000)],
    ["hls", async () => {
      const master = await fetch(`${base}/api/stream.m3u8?src=cam`, { headers: { authorization: auth } });
      if (!master.ok) return false;
      const text = await master.text();
      const media = text.split("\n").find((l) => l && !l.startsWith("#"));
      if (!media) return false;
      const mediaUrl = new URL(media, `${base}/api/`).href;
      for (let i = 0; i < 20; i++) {
        const list = await (await fetch(mediaUrl, { headers: { authorization: auth } })).text();
        const seg = list.split("\n").find((l) => l && !l.startsWith("#"));
        if (seg) return (await fetch(new URL(seg, mediaUrl), { headers: { authorization: auth } })).ok;
        await sleep(300);
      }
      return false;
    }],
    ["ws mse", async () => {
      const Ctor: typeof WebSocket = (globalThis as { WebSocket?: typeof WebSocket }).WebSocket ??
        // @ts-ignore: the ws package ships no types
        (await import("ws")).WebSocket;
      // Browsers cannot set headers on WebSockets: the token/credentials go in the URL.
      const ws = new Ctor(`ws://${cred}127.0.0.1:${api}/api/ws?src=cam`);
      ws.binaryType = "arraybuffer";
      let bytes = 0;
      const ok = await new Promise<boolean>((done) => {
        const timer = setTimeout(() => done(false), 8000);
        ws.onopen = () => ws.send(JSON.stringify({ type: "mse", value: "avc1.640029,mp4a.40.2" }));
        ws.onmessage = (e) => {
          if (typeof e.data !== "string") bytes += (e.data as ArrayBuffer).byteLength;
          if (bytes > 50_000) (clearTimeout(timer), done(true));
        };
        ws.onerror = () => (clearTimeout(timer), done(false));
        ws.onclose = () => (clearTimeout(timer), done(bytes > 50_000));
      });
      ws.close();
      return ok;
    }],
    // WebRTC viewers in their own process, killed once RTP flows: the server must notice on its own.
    ["webrtc whep (werift, killed)", () => webrtcViewer("whep")],
    ["webrtc ws (werift, killed)", () => webrtcViewer("ws")],
    ["snapshot", async () => (await fetch(`${base}/api/frame.jpeg?src=cam`, { headers: { authorization: auth } })).ok],
    ["wrong password http (401)", async () =>
      (await fetch(`${base}/api/streams`, { headers: { authorization: `Basic ${btoa(`${USER}:nope`)}` } })).status === 401],
    ["wrong password rtsp (401)", () => new Promise<boolean>((done) => {
      const s = net.connect(rtsp, "127.0.0.1", () =>
        s.write(`DESCRIBE rtsp://127.0.0.1:${rtsp}/cam RTSP/1.0\r\nCSeq: 1\r\nAuthorization: Basic ${btoa(`${USER}:nope`)}\r\n\r\n`));
      let text = "";
      s.on("data", (d) => {
        text += String(d);
        if (text.includes("\r\n\r\n")) (s.destroy(), done(text.startsWith("RTSP/1.0 401")));
      });
      s.on("error", () => done(false));
      setTimeout(() => (s.destroy(), done(false)), 5000);
    })],
    ["half-open http + rtsp", async () => {
      const a = net.connect(api, "127.0.0.1", () => a.write("GET /api/streams HTTP/1.1\r\nHost: x\r\n"));
      const b = net.connect(rtsp, "127.0.0.1", () => b.write("OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n"));
      a.on("error", () => {});
      b.on("error", () => {});
      await sleep(300);
      // Half of them are left for the server's connection_timeout, half dropped by the client.
      if (Math.random() < 0.5) {
        a.destroy();
        b.destroy();
      } else {
        setTimeout(() => (a.destroy(), b.destroy()), 15_000);
      }
      return true;
    }],
  ];

  // Warm-up: one of each, then idle so sources stop; that state is the baseline.
  for (const [name, run] of clients) count(name, await run().catch(() => false));
  const settleMs = Number(opts.settle) * 1000;
  await sleep(settleMs);
  const before = await snapshot(pid, base, auth);

  const end = Date.now() + minutes * 60_000;
  let rssPeak = before.rssMb;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssBytes(pid) / 1e6)), 2000);
  const workers = Array.from({ length: Number(opts.workers) }, async (_, w) => {
    for (let i = w; Date.now() < end; i++) {
      const [name, run] = clients[i % clients.length];
      count(name, await run().catch(() => false));
    }
  });
  await Promise.all(workers);
  clearInterval(sampler);
  await sleep(settleMs);
  const after = await snapshot(pid, base, auth);
  if (process.env.SOAK_SS) {
    // Which server ports the sockets still open belong to (debugging a leak).
    try {
      const { execFileSync } = await import("node:child_process");
      console.log(execFileSync("ss", ["-tnp"], { encoding: "utf8" }).split("\n").filter((l) => l.includes(`pid=${pid},`)).join("\n"));
    } catch { /* no ss */ }
  }

  server.kill("SIGTERM");
  const exitCode = await new Promise<number | null>((r) => server.once("close", (code) => r(code)));
  rmSync(dir, { recursive: true, force: true });

  const rows: [string, number, number, boolean][] = [
    ["open fds", before.fds, after.fds, after.fds <= before.fds + 2],
    ["sockets", before.sockets, after.sockets, after.sockets <= before.sockets + 1],
    ["child processes", before.children, after.children, after.children <= before.children],
    ["consumers (/metrics)", before.consumers, after.consumers, after.consumers <= before.consumers],
    ["sources up (/metrics)", before.producers, after.producers, after.producers <= before.producers],
    ["connections open (/metrics)", before.connections, after.connections, after.connections <= before.connections],
    ["RSS MB", before.rssMb, after.rssMb, after.rssMb <= before.rssMb * 1.5 + 30],
  ];
  const sessions = Object.values(counts).reduce((n, c) => n + c.ok + c.failed, 0);
  console.log(`\nPorts: api ${api}, rtsp ${rtsp}, rtmp ${rtmp}`);
  console.log(`\nSoak: ${runtime}, ${minutes} min, ${opts.workers} workers, ${sessions} client sessions, RSS peak ${rssPeak.toFixed(1)} MB, exit on SIGTERM: ${exitCode}\n`);
  console.log("| | before | after | back to baseline |\n|---|---|---|---|");
  for (const [name, b, a, ok] of rows) console.log(`| ${name} | ${b} | ${a} | ${ok ? "yes" : "**no**"} |`);
  console.log("\n| client | ok | failed |\n|---|---|---|");
  for (const [name, c] of Object.entries(counts)) console.log(`| ${name} | ${c.ok} | ${c.failed} |`);
  console.log(JSON.stringify({ runtime, minutes, sessions, rssPeakMb: rssPeak, before, after, counts, exitCode }));
  const good = rows.every((r) => r[3]) && exitCode === 0;
  if (!good) console.error(`server log tail:\n${serverErr}`);
  process.exit(good ? 0 : 1);
}

await main();
