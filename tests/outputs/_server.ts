/**
 * A real strom server for the output tests: config as JSON, the HTTP API on 127.0.0.1 port 0 and
 * no other listeners, with the built-in sources (`demo:` H.264 + AAC, `exec:` for ffmpeg-made ones).
 *
 * @module
 */
import * as fs from "node:fs";
import process from "node:process";
import { silentLogger } from "../../lib/core/log.ts";
import type { StreamHub } from "../../lib/core/hub.ts";
import { startServer } from "../../server/server.ts";
import { ffprobe, type FfprobeResult, run } from "../_support/ffmpeg.ts";
import { concatBytes } from "../_support/process.ts";

/** A running test server. */
export interface OutputServer {
  base: string;
  hub: StreamHub;
  close(): Promise<void>;
}

/** Starts a server with the given config (default: one stream `demo: demo:`). */
export async function startOutputServer(config: Record<string, unknown> = { streams: { demo: "demo:" } }): Promise<OutputServer> {
  const server = await startServer({
    configSources: [JSON.stringify(config)],
    listen: "127.0.0.1:0",
    handleSignals: false,
    log: silentLogger,
    // No RTSP/WebRTC listeners on fixed ports: only the HTTP API on 127.0.0.1:0.
    modules: [],
  });
  return { base: server.urls[0], hub: server.hub, close: () => server.close() };
}

/** Waits until `check()` is true, polling every 25 ms; throws after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Consumers attached to a stream now. */
export function consumerCount(hub: StreamHub, name: string): number {
  return (hub.get(name)?.info().consumers.length) ?? 0;
}

/** Reads up to `n` bytes of a response body, then cancels it. */
export async function readSome(res: Response, n: number, timeoutMs = 10_000): Promise<Uint8Array> {
  const reader = res.body!.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const timer = setTimeout(() => reader.cancel().catch(() => {}), timeoutMs);
  try {
    while (total < n) {
      const { value, done } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.length;
    }
  } finally {
    clearTimeout(timer);
    await reader.cancel().catch(() => {});
  }
  return concatBytes(chunks, total);
}

/** ffprobe's verdict on bytes piped to it: streams with counted frames, and what it complained about. */
export async function probeBytes(bytes: Uint8Array, format?: string): Promise<FfprobeResult> {
  const args = ["-v", "error", "-count_frames", "-print_format", "json", "-show_streams", "-show_format"];
  if (format) args.push("-f", format);
  args.push("-i", "pipe:0");
  const res = await run("ffprobe", args, 20_000, bytes);
  if (res.code !== 0) throw new Error(`ffprobe failed (${res.code}): ${res.stderr}`);
  const json = JSON.parse(new TextDecoder().decode(res.stdout)) as FfprobeResult;
  json.stderr = res.stderr;
  return json;
}

/** ffprobe over HTTP with frame counting (the URL must end by itself, e.g. `duration=`). */
export function probeUrl(url: string): Promise<FfprobeResult> {
  return ffprobe(url, ["-count_frames"], 30_000);
}

/** The streams of a probe result as `codec:frames` strings, e.g. `["h264:51", "aac:94"]`. */
export function codecsOf(probe: FfprobeResult): { codec: string; type: string; frames: number; width?: number; height?: number }[] {
  return probe.streams.map((s) => ({
    codec: s.codec_name,
    type: s.codec_type,
    frames: Number(s.nb_read_frames ?? 0),
    width: s.width,
    height: s.height,
  }));
}

/** ffmpeg processes that are children of this process (Linux /proc; -1 where /proc is missing). */
export function childFfmpegCount(): number {
  const { existsSync, readdirSync, readFileSync } = fs;
  if (!existsSync("/proc/self/stat")) return -1;
  let n = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // pid (comm) state ppid ...
      const m = /^\d+ \((.*)\) \S+ (\d+)/.exec(stat);
      if (m && m[1] === "ffmpeg" && Number(m[2]) === process.pid) n++;
    } catch { /* gone */ }
  }
  return n;
}
