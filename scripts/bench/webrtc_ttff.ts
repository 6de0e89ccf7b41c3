/**
 * Connect to first frame in a real browser: headless Chromium (playwright-core, /usr/bin/chromium)
 * plays a warm stream of `strom serve` (the shipped bundle, on Node, Deno or Bun) over WebRTC and,
 * for comparison in the same run, over MSE, and times from the start of the connection to the
 * first frame the browser decoded. Prints numbers; asserts nothing.
 *
 *   node --import tsx scripts/bench/webrtc_ttff.ts --runtime all --runs 10 --markdown
 *
 * Options:
 *   --runtime r[,r]   node, deno, bun, all (default node): what `strom serve` runs on (the driver
 *                     and the browser are the same for all)
 *   --streams s[,s]   demo (the built-in demo source: H.264 640x360 25 fps, 1 s GOP, + AAC) and cam
 *                     (the 1080p25 ~4 Mbit/s camera of the fan-out benches, rtsp_camera.ts, 2 s GOP);
 *                     default demo,cam
 *   --runs n          sessions per path and stream (default 10), each with a fresh
 *                     RTCPeerConnection / WebSocket / MediaSource and <video>
 *   --audio           also offer a recvonly audio transceiver (demo: starts the AAC->Opus transcoder)
 *   --markdown        also print a Markdown table (docs/performance.md)
 *   --verbose         echo children's stderr
 *
 * The stream is warm: a viewer (`/api/stream.ts`, read by this driver) is attached for the whole run,
 * so the source is up and strom's GOP cache holds the current GOP. Paths, each timed from
 * `performance.now()` in the page before anything else (before `new RTCPeerConnection` and
 * `createOffer`, or before `new WebSocket`):
 * - WHEP: `POST /api/webrtc?src=` with `application/sdp` after ICE gathering completed (non-trickle,
 *   as WHEP clients do), then the answer;
 * - WHEP-nowait: the same POST right after createOffer, with no candidates in the offer (strom's
 *   answer carries its own; the browser's checks reach strom as peer-reflexive candidates);
 * - WS: `/api/ws?src=` with `webrtc/offer` sent right after createOffer and candidates trickled (what
 *   the web player does);
 * - MSE: `/api/ws?src=` with `mse`, a MediaSource fed with the fragments.
 * "First frame" is the first `requestVideoFrameCallback` of the <video> (a decoded frame handed to the
 * compositor); for WebRTC also the first `getStats()` with `framesDecoded > 0` (polled every ~5 ms).
 * Runs start at random points of the GOP (sleeps of 150..650 ms between sessions), so a server
 * without a GOP cache would show its average wait for the next keyframe (half a GOP).
 *
 * @module
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { hasChromium, launchBrowser } from "../../tests/_support/browser.ts";
import { Child, killAll, ROOT, type Runtime, sleep } from "./_children.ts";
import { buildStromBundle, cameraClip, DENO_STROM_V8_FLAGS, freePort, startCamera, waitForPort } from "./_setup.ts";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const flag = (name: string) => process.argv.includes(`--${name}`);
const list = (v: string | undefined, d: string) => (v ?? d).split(",").map((s) => s.trim()).filter(Boolean);

const runtimes = list(arg("runtime") === "all" ? "node,deno,bun" : arg("runtime"), "node") as Runtime[];
const streamNames = list(arg("streams"), "demo,cam");
const RUNS = Number(arg("runs") ?? 10);
const withAudio = flag("audio");
const verbose = flag("verbose");
for (const r of runtimes) if (!["node", "deno", "bun"].includes(r)) throw new Error(`Unknown runtime "${r}"`);
for (const s of streamNames) if (!["demo", "cam"].includes(s)) throw new Error(`Unknown stream "${s}" (demo, cam)`);
if (!Number.isInteger(RUNS) || RUNS < 1 || RUNS > 200) throw new Error("--runs: 1..200");
if (!hasChromium) throw new Error("No Chromium at /usr/bin/chromium (set CHROMIUM_PATH)");

const DENO = join(ROOT, "node_modules/.bin/deno");
const BUN = join(ROOT, "node_modules/.bin/bun");
const log = (msg: string) => console.error(`[bench] ${msg}`);

async function startStrom(
  runtime: Runtime,
  bundle: string,
  cameraUrl: string | undefined,
): Promise<{ child: Child; api: string }> {
  const [rtspPort, apiPort] = [await freePort(), await freePort()];
  const dir = join(tmpdir(), "strom-bench");
  mkdirSync(dir, { recursive: true });
  const config = join(dir, `strom_ttff_${process.pid}_${apiPort}.yaml`);
  writeFileSync(
    config,
    [
      `api:\n  listen: "127.0.0.1:${apiPort}"`,
      `rtsp:\n  listen: "127.0.0.1:${rtspPort}"`,
      `webrtc:\n  listen: "127.0.0.1:0"`,
      `log:\n  level: warn`,
      `streams:\n  demo: "demo:"${cameraUrl ? `\n  cam: ${cameraUrl}` : ""}`,
      "",
    ].join("\n"),
  );
  const args = ["serve", "-c", config];
  const [cmd, argv] = runtime === "deno"
    ? [DENO, ["run", "-A", "--unstable-net", DENO_STROM_V8_FLAGS, bundle, ...args]]
    : runtime === "bun"
    ? [BUN, [bundle, ...args]]
    : ["node", [bundle, ...args]];
  const child = new Child(`strom@${runtime}`, cmd, argv, { echoStderr: verbose });
  await waitForPort(apiPort, 60_000, child);
  return { child, api: `http://127.0.0.1:${apiPort}` };
}

/** A viewer that keeps `src` running (and its GOP cache filled) until `stop()`. */
async function keepWarm(api: string, src: string): Promise<{ stop(): Promise<void> }> {
  const res = await fetch(`${api}/api/stream.ts?src=${src}`);
  if (!res.ok) throw new Error(`keeper for ${src}: HTTP ${res.status} ${await res.text()}`);
  const reader = res.body!.getReader();
  const first = reader.read(); // the first bytes: the source is up
  await first;
  const drain = (async () => {
    try {
      while (!(await reader.read()).done) { /* drain */ }
    } catch { /* cancelled */ }
  })();
  return {
    async stop() {
      await reader.cancel().catch(() => {});
      await drain;
    },
  };
}

type Marks = Record<string, number>;

/** In the page: one WebRTC session (WHEP or /api/ws), times in ms since its start. */
function webrtcSession(
  { mode, src, audio }: { mode: "whep" | "whep-nowait" | "ws"; src: string; audio: boolean },
): Promise<Marks> {
  const t0 = performance.now();
  const marks: Record<string, number> = {};
  const mark = (k: string) => {
    if (!(k in marks)) marks[k] = performance.now() - t0;
  };
  const pc = new RTCPeerConnection();
  pc.addTransceiver("video", { direction: "recvonly" });
  if (audio) pc.addTransceiver("audio", { direction: "recvonly" });
  const video = document.createElement("video");
  video.muted = true;
  video.autoplay = true;
  video.playsInline = true;
  document.body.append(video);
  pc.oniceconnectionstatechange = () => {
    if (pc.iceConnectionState === "connected" || pc.iceConnectionState === "completed") mark("ice");
  };
  pc.onconnectionstatechange = () => {
    if (pc.connectionState === "connected") mark("connected");
  };
  const presented = new Promise<void>((resolve) => {
    pc.ontrack = (ev) => {
      if (ev.track.kind !== "video") return;
      mark("track");
      video.srcObject = new MediaStream([ev.track]);
      video.play().catch(() => {});
      video.requestVideoFrameCallback(() => {
        mark("frame");
        resolve();
      });
    };
  });
  let polling = true;
  const decoded = (async () => {
    while (polling) {
      const stats = await pc.getStats();
      stats.forEach((s) => {
        if (s.type === "inbound-rtp" && s.kind === "video" && (s.framesDecoded ?? 0) > 0) mark("decoded");
      });
      if ("decoded" in marks) return;
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  let ws: WebSocket | undefined;
  let location: string | null = null;
  const signalled = (async () => {
    if (mode !== "ws") {
      await pc.setLocalDescription(await pc.createOffer());
      await new Promise<void>((resolve) => {
        if (mode === "whep-nowait" || pc.iceGatheringState === "complete") return resolve();
        const timer = setTimeout(resolve, 3000);
        pc.onicegatheringstatechange = () => {
          if (pc.iceGatheringState === "complete") {
            clearTimeout(timer);
            resolve();
          }
        };
      });
      mark("offer");
      const res = await fetch(`api/webrtc?src=${encodeURIComponent(src)}`, {
        method: "POST",
        headers: { "Content-Type": "application/sdp" },
        body: pc.localDescription!.sdp,
      });
      const body = await res.text();
      if (res.status !== 201) throw new Error(`WHEP: HTTP ${res.status} ${body}`);
      location = res.headers.get("location");
      mark("answer");
      await pc.setRemoteDescription({ type: "answer", sdp: body });
    } else {
      const sock = ws = new WebSocket(`${location_origin()}/api/ws?src=${encodeURIComponent(src)}`);
      const pending: string[] = [];
      let answered = false;
      let offerSent = false;
      const early: string[] = [];
      pc.onicecandidate = (ev) => {
        const msg = JSON.stringify({ type: "webrtc/candidate", value: ev.candidate ? ev.candidate.candidate : "" });
        if (offerSent) sock.send(msg);
        else early.push(msg);
      };
      await new Promise<void>((resolve, reject) => {
        sock.onopen = () => resolve();
        sock.onerror = () => reject(new Error("WebSocket error"));
      });
      const answer = new Promise<void>((resolve, reject) => {
        sock.onmessage = async (ev) => {
          const m = JSON.parse(String(ev.data)) as { type: string; value: unknown };
          if (m.type === "error") return reject(new Error(`server: ${String(m.value)}`));
          if (m.type === "webrtc/answer" || (m.type === "webrtc" && (m.value as { type?: string }).type === "answer")) {
            mark("answer");
            const sdp = typeof m.value === "string" ? m.value : (m.value as { sdp: string }).sdp;
            await pc.setRemoteDescription({ type: "answer", sdp });
            answered = true;
            for (const c of pending.splice(0)) await pc.addIceCandidate({ candidate: c, sdpMid: "0" }).catch(() => {});
            resolve();
          } else if (m.type === "webrtc/candidate" && m.value) {
            if (answered) await pc.addIceCandidate({ candidate: String(m.value), sdpMid: "0" }).catch(() => {});
            else pending.push(String(m.value));
          }
        };
      });
      await pc.setLocalDescription(await pc.createOffer());
      sock.send(JSON.stringify({ type: "webrtc/offer", value: pc.localDescription!.sdp }));
      offerSent = true;
      mark("offer");
      for (const msg of early.splice(0)) sock.send(msg);
      await answer;
    }
  })();
  function location_origin(): string {
    return window.location.origin.replace("http", "ws");
  }
  return (async () => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        Promise.all([signalled, presented, decoded]),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no frame within 15 s (${mode}, marks ${JSON.stringify(marks)}, ${pc.connectionState})`)),
            15_000,
          );
        }),
      ]);
      return marks;
    } finally {
      clearTimeout(timer);
      polling = false;
      pc.close();
      ws?.close();
      if (location) await fetch(new URL(location, new URL("api/webrtc", document.baseURI)), { method: "DELETE" });
      video.remove();
    }
  })();
}

/** In the page: one MSE session over /api/ws, times in ms since its start. */
function mseSession({ src }: { src: string }): Promise<Marks> {
  const t0 = performance.now();
  const marks: Record<string, number> = {};
  const mark = (k: string) => {
    if (!(k in marks)) marks[k] = performance.now() - t0;
  };
  const video = document.createElement("video");
  video.muted = true;
  video.autoplay = true;
  video.playsInline = true;
  document.body.append(video);
  const ms = new MediaSource();
  const url = URL.createObjectURL(ms);
  video.src = url;
  const opened = new Promise<void>((r) => ms.addEventListener("sourceopen", () => r(), { once: true }));
  const ws = new WebSocket(`${window.location.origin.replace("http", "ws")}/api/ws?src=${encodeURIComponent(src)}`);
  ws.binaryType = "arraybuffer";
  const queue: ArrayBuffer[] = [];
  let sb: SourceBuffer | undefined;
  let closed = false;
  const pump = () => {
    if (closed || !sb || sb.updating) return;
    if (video.buffered.length && video.currentTime < video.buffered.start(0)) video.currentTime = video.buffered.start(0);
    const next = queue.shift();
    if (next) sb.appendBuffer(next);
  };
  const presented = new Promise<void>((resolve, reject) => {
    ws.onopen = () => ws.send(JSON.stringify({ type: "mse", value: "avc1.640029,avc1.64002A,avc1.42C01E,mp4a.40.2" }));
    ws.onerror = () => reject(new Error("WebSocket error"));
    ws.onmessage = async (ev) => {
      if (typeof ev.data === "string") {
        const m = JSON.parse(ev.data) as { type: string; value: string };
        if (m.type === "error") return reject(new Error(`server: ${m.value}`));
        if (m.type !== "mse") return;
        await opened;
        sb = ms.addSourceBuffer(m.value);
        sb.mode = "segments";
        sb.addEventListener("updateend", pump);
        pump();
        return;
      }
      const data = ev.data as ArrayBuffer;
      const box = new TextDecoder().decode(new Uint8Array(data, 4, 4));
      if (box === "moof") mark("moof");
      queue.push(data);
      pump();
    };
    video.requestVideoFrameCallback(() => {
      mark("frame");
      resolve();
    });
    video.play().catch(() => {});
  });
  return (async () => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        presented,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no MSE frame within 15 s (marks ${JSON.stringify(marks)})`)), 15_000);
        }),
      ]);
      return marks;
    } finally {
      clearTimeout(timer);
      closed = true;
      ws.onmessage = null;
      ws.close();
      video.removeAttribute("src");
      video.load();
      video.remove();
      URL.revokeObjectURL(url);
    }
  })();
}

interface Row {
  runtime: Runtime;
  stream: string;
  path: "WHEP" | "WHEP-nowait" | "WS" | "MSE";
  marks: Marks[];
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}
const fmt = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? "-" : x.toFixed(0));
function col(r: Row, key: string): number[] {
  return r.marks.map((m) => m[key]).filter((x): x is number => typeof x === "number");
}
function summary(r: Row, key: string): string {
  const xs = col(r, key);
  return xs.length ? `${fmt(pct(xs, 50))}/${fmt(pct(xs, 90))}` : "-";
}

async function measure(page: Page, runtime: Runtime, stream: string): Promise<Row[]> {
  const rows: Row[] = [
    { runtime, stream, path: "WHEP", marks: [] },
    { runtime, stream, path: "WHEP-nowait", marks: [] },
    { runtime, stream, path: "WS", marks: [] },
    { runtime, stream, path: "MSE", marks: [] },
  ];
  for (let i = 0; i < RUNS; i++) {
    for (const row of rows) {
      await sleep(150 + Math.random() * 500);
      const marks = row.path === "MSE"
        ? await page.evaluate(mseSession, { src: stream })
        : await page.evaluate(webrtcSession, { mode: row.path === "WHEP" ? "whep" as const : row.path === "WS" ? "ws" as const : "whep-nowait" as const, src: stream, audio: withAudio });
      row.marks.push(marks);
    }
  }
  return rows;
}

const clip = streamNames.includes("cam") ? cameraClip(log) : undefined;
log("building the bundle...");
const bundle = buildStromBundle("ttff-dist");
const cameraUrl = clip ? (await startCamera(clip, { pktSize: 1200, verbose })).url : undefined;
const browser = await launchBrowser();
const rows: Row[] = [];
const load0 = loadavg()[0];
try {
  for (const runtime of runtimes) {
    log(`${runtime}: starting strom serve...`);
    const strom = await startStrom(runtime, bundle, cameraUrl);
    const keepers = [];
    try {
      for (const s of streamNames) keepers.push(await keepWarm(strom.api, s));
      await sleep(2500); // more than a GOP: the cache holds a whole one
      const page = await browser.context.newPage();
      page.on("pageerror", (e) => log(`page error: ${e}`));
      try {
        // tsx (esbuild keepNames) wraps named functions in __name(); the page has no such helper.
        await page.addInitScript("globalThis.__name = (f) => f;");
        await page.goto(`${strom.api}/`, { timeout: 15_000 });
        // One unmeasured session per path first: the browser's own first-use costs (codec, network
        // stack) are not strom's.
        for (const s of streamNames) {
          await page.evaluate(webrtcSession, { mode: "ws" as const, src: s, audio: withAudio });
          await page.evaluate(mseSession, { src: s });
        }
        for (const s of streamNames) {
          log(`${runtime}: ${s}, ${RUNS} runs per path...`);
          const got = await measure(page, runtime, s);
          rows.push(...got);
          for (const r of got) log(`  ${r.path}: first frame median/p90 ${summary(r, "frame")} ms`);
        }
      } finally {
        await page.close();
      }
    } finally {
      for (const k of keepers) await k.stop();
      await strom.child.stop();
    }
  }
} finally {
  await browser.close();
  killAll();
}

console.log(
  `\nstrom connect-to-first-frame in headless Chromium, warm streams, ${RUNS} sessions per row; ` +
    `${cpus().length} cores, load average ${load0.toFixed(1)} -> ${loadavg()[0].toFixed(1)}` +
    `${withAudio ? "; audio offered" : "; video only"}`,
);
console.log("times in ms from the start of the session, median/p90");
const header = ["runtime", "stream", "path", "offer sent", "answer", "ICE connected", "DTLS connected", "first decoded (getStats)", "first frame (rVFC)"];
const table = rows.map((r) => [
  r.runtime,
  r.stream,
  r.path,
  summary(r, "offer"),
  summary(r, r.path === "MSE" ? "moof" : "answer"),
  summary(r, "ice"),
  summary(r, "connected"),
  summary(r, "decoded"),
  summary(r, "frame"),
]);
for (const t of table) console.log(t.join("  "));
if (flag("markdown")) {
  console.log("");
  console.log(`| ${header.join(" | ")} |`);
  console.log(`|${header.map(() => "---").join("|")}|`);
  for (const t of table) console.log(`| ${t.join(" | ")} |`);
  console.log("\n(MSE: the \"answer\" column is the first `moof` received.)");
}
