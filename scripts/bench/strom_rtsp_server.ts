/**
 * strom under test: its RTSP server with one stream `cam` whose source is the bench camera, exactly
 * as a go2rtc-style config `streams: { cam: rtsp://camera/... }` would run it. The camera is dialed
 * once on the first viewer; every viewer is served from that one connection.
 *
 *   node --import tsx scripts/bench/strom_rtsp_server.ts --source rtsp://127.0.0.1:9000/cam [--port 0]
 *   deno run -A scripts/bench/strom_rtsp_server.ts ...      bun scripts/bench/strom_rtsp_server.ts ...
 *
 * Prints `{"event":"listening","port":N}` on stdout; strom's own warnings go to stderr, and with
 * `--memory-log` (or STROM_MEMORY_LOG=1 in the environment) a memory breakdown every 5 s. With
 * `--expose-gc` and STROM_GC_EVERY_MS=N, a full GC every N ms (to tell garbage from live memory).
 *
 * @module
 */
import { StreamHub } from "../../lib/core/hub.ts";
import { createLogger, isLogLevel } from "../../lib/core/log.ts";
import { registerRtspSources, RtspServer } from "../../lib/protocol/rtsp/mod.ts";

function arg(name: string, fallback?: string): string | undefined {
  const args = globalThis.process?.argv ?? [];
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
}

const source = arg("source");
if (!source) {
  console.error("usage: strom_rtsp_server.ts --source rtsp://camera/path [--port 0] [--log warn]");
  process.exit(2);
}
const level = arg("log", "warn")!;
const log = createLogger({ level: isLogLevel(level) ? level : "warn" });

registerRtspSources({ log });
const hub = new StreamHub({ log, graceMs: 5000 });
hub.set("cam", [source]);
const server = new RtspServer({
  hub,
  listen: { hostname: "127.0.0.1", port: Number(arg("port", "0")) },
  log,
});
const addr = await server.listen();
console.log(JSON.stringify({ event: "listening", port: addr.port }));

// --memory-log: where the RSS goes (V8 heap vs ArrayBuffers outside it), every 5 s on stderr.
if (globalThis.process?.argv.includes("--memory-log") || globalThis.process?.env.STROM_MEMORY_LOG) {
  setInterval(() => {
    const m = process.memoryUsage();
    const mb = (n: number) => Math.round(n / 1e5) / 10;
    console.error(JSON.stringify({
      rssMB: mb(m.rss),
      heapUsedMB: mb(m.heapUsed),
      heapTotalMB: mb(m.heapTotal),
      externalMB: mb(m.external),
      arrayBuffersMB: mb(m.arrayBuffers),
      sessions: server.sessions.size,
    }));
  }, 5000).unref?.();
}

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  const force = setTimeout(() => process.exit(0), 2000);
  await server.close().catch(() => {});
  await hub.close().catch(() => {});
  clearTimeout(force);
  process.exit(0);
}
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());

// STROM_GC_EVERY_MS=N with --expose-gc: a full GC every N ms, to tell garbage waiting for V8's
// next major GC from memory that is really held (diagnostics only; strom never does this).
const gcEvery = Number(globalThis.process?.env.STROM_GC_EVERY_MS ?? 0);
const gc = (globalThis as { gc?: () => void }).gc;
if (gcEvery > 0 && gc) setInterval(() => gc(), gcEvery).unref?.();
