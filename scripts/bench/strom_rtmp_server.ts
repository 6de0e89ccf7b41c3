/**
 * strom under test for the RTMP fan-out bench: its RTMP server with one push-only stream `cam`, as
 * a config `rtmp: { listen: ":1935" }` + `streams: { cam: }` would run it. The bench's ffmpeg
 * publishes into it; every player is served from that one publish.
 *
 *   node --import tsx scripts/bench/strom_rtmp_server.ts [--port 0] [--log warn]
 *
 * Prints `{"event":"listening","port":N}` on stdout.
 *
 * @module
 */
import { StreamHub } from "../../lib/core/hub.ts";
import { createLogger, isLogLevel } from "../../lib/core/log.ts";
import { RtmpServer } from "../../lib/protocol/rtmp/mod.ts";

function arg(name: string, fallback?: string): string | undefined {
  const args = globalThis.process?.argv ?? [];
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
}

const level = arg("log", "warn")!;
const log = createLogger({ level: isLogLevel(level) ? level : "warn" });
const hub = new StreamHub({ log, graceMs: 5000 });
hub.set("cam", []);
const server = await RtmpServer.listen({ hub, listen: { hostname: "127.0.0.1", port: Number(arg("port", "0")) }, log });
console.log(JSON.stringify({ event: "listening", port: server.addr.port }));
// Exit cleanly on SIGTERM so `--cpu-prof` and the like write their files.
process.on("SIGTERM", () => process.exit(0));
