/**
 * Helpers for the RTSP end-to-end tests: long-running ffmpeg publishers and bounded waits.
 *
 * @module
 */
import type { StreamHub } from "../../lib/core/hub.ts";
import { RtspMessageParser, type RtspResponse } from "../../lib/protocol/rtsp/message.ts";
import { type ChildProcess, spawn, type TcpConn } from "../../lib/runtime/mod.ts";
import { ffmpeg, type RunResult } from "../_support/ffmpeg.ts";

/** Waits until `check()` is true, polling every 50 ms; throws after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Sleeps `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Whether stream `name` has a connected publisher. */
export function hasPublisher(hub: StreamHub, name: string): boolean {
  const info = hub.get(name)?.info() as
    | { producers: { state: string; connection?: unknown; url: string }[] }
    | undefined;
  return !!info?.producers.some((p) =>
    p.url.startsWith("publisher:") && p.state === "running" && p.connection
  );
}

/**
 * Starts `ffmpeg -re <inputs/encoders> -f rtsp -rtsp_transport tcp <url>` in the background.
 * stderr is kept (last 4 KiB) for failure messages.
 */
export function publish(
  url: string,
  args: string[],
  transport: "tcp" | "udp" = "tcp",
): ChildProcess & { log: () => string } {
  const child = spawn("ffmpeg", [
    "-hide_banner",
    "-nostdin",
    "-loglevel",
    "error",
    "-re",
    ...args,
    "-f",
    "rtsp",
    "-rtsp_transport",
    transport,
    url,
  ], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  let log = "";
  (async () => {
    const reader = child.stderr!.getReader();
    const dec = new TextDecoder();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        log = (log + dec.decode(value)).slice(-4096);
      }
    } catch { /* process gone */ }
  })();
  return Object.assign(child, { log: () => log });
}

/** Standard test inputs. */
export const LAVFI_VIDEO = ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25"];
export const LAVFI_AUDIO = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"];

/** The standard camera: LAVFI inputs as H.264 (one keyframe a second, no B-frames) + AAC 64k. */
export const H264_AAC_CAMERA = [
  ...LAVFI_VIDEO,
  ...LAVFI_AUDIO,
  "-c:v",
  "libx264",
  "-preset",
  "ultrafast",
  "-tune",
  "zerolatency",
  "-g",
  "25",
  "-c:a",
  "aac",
  "-b:a",
  "64k",
];

/**
 * {@link publish} into stream `name` of `hub` at `url`, then waits until the hub has the publisher.
 * A publisher that does not show up fails with what ffmpeg said.
 */
export async function publishAndWait(
  hub: StreamHub,
  name: string,
  url: string,
  args: string[],
  timeoutMs = 10_000,
): Promise<ReturnType<typeof publish>> {
  const child = publish(url, args);
  await waitFor(`the ffmpeg publisher of ${name}`, () => hasPublisher(hub, name), timeoutMs).catch((e) => {
    child.kill("SIGKILL");
    throw new Error(`${e.message}; ffmpeg said: ${child.log()}`);
  });
  return child;
}

/** ffmpeg as an RTSP player over TCP: decodes `frames` video frames of `url` to nowhere (bounded). */
export function decodeRtsp(url: string, frames: number, timeoutMs = 15_000): Promise<RunResult> {
  return ffmpeg(
    ["-rtsp_transport", "tcp", "-i", url, "-frames:v", String(frames), "-f", "null", "-"],
    timeoutMs,
  );
}

/**
 * A hand-written RTSP client's read side: parses what `conn` receives until it ends, handing
 * responses and interleaved frames (with the time their chunk arrived, `performance.now()`) to the
 * callbacks. Resolves once the connection ended or failed.
 */
export async function readRtspReplies(
  conn: TcpConn,
  on: {
    response?: (res: RtspResponse) => void;
    interleaved?: (channel: number, data: Uint8Array, at: number) => void;
  },
): Promise<void> {
  const parser = new RtspMessageParser();
  const reader = conn.readable.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const at = performance.now();
      parser.push(value);
      for (let ev = parser.next(); ev; ev = parser.next()) {
        if (ev.type === "response") on.response?.(ev.response);
        else if (ev.type === "interleaved") on.interleaved?.(ev.channel, ev.data, at);
      }
    }
  } catch { /* reset */ }
}
