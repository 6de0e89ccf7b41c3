/**
 * Time to first frame of strom's browser/HTTP outputs, and the memory an HLS session holds.
 * Prints numbers; asserts nothing.
 *
 *   node --import tsx scripts/bench/ttff.ts [--runs 5]
 *   npx deno run -A scripts/bench/ttff.ts       npx bun scripts/bench/ttff.ts
 *
 * Measured against the built-in demo source (H.264 640x360 25 fps, one keyframe per second, + AAC):
 * - MP4 over HTTP (`/api/stream.mp4`) and MSE over `/api/ws`: from the request to the first
 *   `moof` (the first playable frame), for a cold stream (source not running: dial + first
 *   keyframe), a warm one (another viewer attached: the GOP cache answers) and, in-process, a warm
 *   one with the GOP cache bypassed (the viewer waits for the next keyframe, as without a cache);
 * - HLS: segment bytes per session after the segment window filled, and the JS heap per session.
 *
 * WebRTC (connect to first decoded frame in headless Chromium, with MSE alongside): webrtc_ttff.ts.
 *
 * @module
 */
import process from "node:process";
import { silentLogger } from "../../lib/core/log.ts";
import { Mp4Consumer } from "../../lib/protocol/http/mp4_consumer.ts";
import { mp4Medias } from "../../lib/protocol/http/output_medias.ts";
import { OutputSession } from "../../lib/protocol/http/output_session.ts";
import { HlsSessionStore } from "../../lib/protocol/hls/session_store.ts";
import { outputMedias, TS_CODECS } from "../../lib/protocol/http/output_medias.ts";
import { runtimeName } from "../../lib/runtime/env.ts";
import { startServer } from "../../server/server.ts";

const runsArg = process.argv.indexOf("--runs");
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;
const MOOF = [0x6d, 0x6f, 0x6f, 0x66];

function hasMoof(bytes: Uint8Array): boolean {
  for (let i = 4; i + 4 <= bytes.length; i++) {
    if (bytes[i] === MOOF[0] && bytes[i + 1] === MOOF[1] && bytes[i + 2] === MOOF[2] && bytes[i + 3] === MOOF[3]) return true;
  }
  return false;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function stats(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return `median ${s[Math.floor(s.length / 2)].toFixed(1)} ms, min ${s[0].toFixed(1)}, max ${s[s.length - 1].toFixed(1)}, mean ${mean.toFixed(1)} (n=${s.length})`;
}

async function mp4Ttff(url: string): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(url);
  const reader = res.body!.getReader();
  let seen = new Uint8Array(0);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error("stream ended before a fragment");
      const next = new Uint8Array(seen.length + value.length);
      next.set(seen);
      next.set(value, seen.length);
      seen = next;
      if (hasMoof(seen)) return performance.now() - t0;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

type WsCtor = new (url: string) => WebSocket;

async function wsCtor(): Promise<WsCtor> {
  const g = (globalThis as { WebSocket?: WsCtor }).WebSocket;
  if (g) return g;
  // Node 20 has no global WebSocket; `ws` comes with @hono/node-ws. A variable specifier keeps the
  // type checker from asking for @types/ws.
  const name = "ws";
  return ((await import(name)) as { WebSocket: WsCtor }).WebSocket;
}

async function mseTtff(Ws: WsCtor, url: string): Promise<number> {
  const t0 = performance.now();
  const ws = new Ws(url);
  ws.binaryType = "arraybuffer";
  try {
    return await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no MSE fragment within 15 s")), 15_000);
      ws.onopen = () => ws.send(JSON.stringify({ type: "mse", value: "avc1.640029,mp4a.40.2" }));
      ws.onmessage = (ev: MessageEvent) => {
        if (typeof ev.data === "string") return;
        if (hasMoof(new Uint8Array(ev.data as ArrayBuffer, 0, Math.min(16, (ev.data as ArrayBuffer).byteLength)))) {
          clearTimeout(timer);
          resolve(performance.now() - t0);
        }
      };
      ws.onerror = () => reject(new Error("WebSocket error"));
    });
  } finally {
    ws.close();
  }
}

const streams: Record<string, string> = { warm: "demo:" };
for (let i = 0; i < RUNS; i++) {
  streams[`cold_mp4_${i}`] = "demo:";
  streams[`cold_mse_${i}`] = "demo:";
}
const server = await startServer({
  configSources: [JSON.stringify({ streams })],
  listen: "127.0.0.1:0",
  handleSignals: false,
  log: silentLogger,
  // No RTSP/WebRTC listeners on fixed ports: only the HTTP API on 127.0.0.1:0.
  modules: [],
});
const base = server.urls[0];
const wsBase = base.replace("http", "ws");
const Ws = await wsCtor();
console.log(`strom TTFF bench on ${runtimeName()} — demo source, ${RUNS} runs each`);

try {
  const coldMp4: number[] = [];
  const coldMse: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    coldMp4.push(await mp4Ttff(`${base}/api/stream.mp4?src=cold_mp4_${i}`));
    coldMse.push(await mseTtff(Ws, `${wsBase}/api/ws?src=cold_mse_${i}`));
  }

  // A viewer keeps `warm` running, so its GOP cache is filled.
  const keeper = await fetch(`${base}/api/stream.ts?src=warm`);
  const keeperReader = keeper.body!.getReader();
  void (async () => {
    try {
      while (!(await keeperReader.read()).done) { /* drain */ }
    } catch { /* cancelled */ }
  })();
  await sleep(1500);
  const warmMp4: number[] = [];
  const warmMse: number[] = [];
  const warmNoCache: number[] = [];
  const stream = server.hub.get("warm")!;
  for (let i = 0; i < RUNS; i++) {
    // Spread the starts over the GOP so the no-cache case sees its real average wait.
    await sleep(137 + Math.random() * 400);
    warmMp4.push(await mp4Ttff(`${base}/api/stream.mp4?src=warm`));
    warmMse.push(await mseTtff(Ws, `${wsBase}/api/ws?src=warm`));
    let first = 0;
    let gotFirst!: () => void;
    const done = new Promise<void>((resolve) => (gotFirst = resolve));
    const t0 = performance.now();
    const consumer = new Mp4Consumer({
      medias: mp4Medias(new URLSearchParams()),
      sink: {
        write(chunk) {
          if (!first && hasMoof(chunk)) {
            first = performance.now() - t0;
            gotFirst();
          }
        },
      },
    });
    consumer.useGopCache = false;
    const session = new OutputSession(stream, consumer);
    await session.open();
    await done;
    await session.close();
    warmNoCache.push(first);
  }

  console.log(`MP4 /api/stream.mp4  cold (dial + first keyframe):   ${stats(coldMp4)}`);
  console.log(`MP4 /api/stream.mp4  warm (GOP cache):               ${stats(warmMp4)}`);
  console.log(`MSE /api/ws          cold (dial + first keyframe):   ${stats(coldMse)}`);
  console.log(`MSE /api/ws          warm (GOP cache):               ${stats(warmMse)}`);
  console.log(`fMP4 in-process      warm, GOP cache bypassed:       ${stats(warmNoCache)}`);

  // HLS memory: N sessions on the warm stream, fed until the segment window is full.
  const N = 20;
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const mem = () => {
    const m = process.memoryUsage();
    return m.heapUsed + (m.external ?? 0);
  };
  const heap0 = mem();
  const store = new HlsSessionStore({ maxSessions: 0, sessionTimeoutMs: 60_000 });
  const sessions = [];
  for (let i = 0; i < N; i++) {
    sessions.push(await store.create(stream, { format: "mpegts", medias: outputMedias(new URLSearchParams(), TS_CODECS) }));
  }
  await sleep(8000); // 6 segments of ~1 s
  for (const s of sessions) store.get(s.sessionId);
  gc?.();
  const heap1 = mem();
  const perSession = store.bytes / N;
  console.log(
    `HLS (MPEG-TS, 6 x ~1 s segments): ${(perSession / 1024).toFixed(0)} KiB of segments per session; ` +
      `heap+external +${((heap1 - heap0) / N / 1024).toFixed(0)} KiB per session (${N} sessions${gc ? "" : ", no --expose-gc: noisy"}); ` +
      `cap hls.max_session_bytes`,
  );
  await store.close();
  await keeperReader.cancel().catch(() => {});
} finally {
  await server.close();
}
