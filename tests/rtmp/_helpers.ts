/**
 * Helpers for the RTMP end-to-end tests: ffmpeg as a long-running RTMP publisher or RTMP server.
 *
 * @module
 */
import type { StreamHub } from "../../lib/core/hub.ts";
import { type ChildProcess, spawn } from "../../lib/runtime/mod.ts";
import { hasPublisher, waitFor } from "../rtsp/_helpers.ts";

export { H264_AAC_CAMERA, hasPublisher, LAVFI_AUDIO, LAVFI_VIDEO, sleep, waitFor } from "../rtsp/_helpers.ts";

/** ffmpeg in the background with `args`; stderr is kept (last 4 KiB) for failure messages. */
export function ffmpegBackground(args: string[]): ChildProcess & { log: () => string } {
  const child = spawn("ffmpeg", ["-hide_banner", "-nostdin", "-loglevel", "error", ...args], {
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
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

/** `ffmpeg -re <args> -f flv <url>`: an RTMP publisher (as OBS would be). */
export function publishRtmp(url: string, args: string[]): ChildProcess & { log: () => string } {
  return ffmpegBackground(["-re", ...args, "-f", "flv", url]);
}

/** {@link publishRtmp}, then waits until stream `name` of `hub` has the publisher. */
export async function publishRtmpAndWait(
  hub: StreamHub,
  name: string,
  url: string,
  args: string[],
  timeoutMs = 10_000,
): Promise<ReturnType<typeof publishRtmp>> {
  const child = publishRtmp(url, args);
  await waitFor(`the ffmpeg RTMP publisher of ${name}`, () => hasPublisher(hub, name), timeoutMs).catch(async (e) => {
    child.kill("SIGKILL");
    await child.exited;
    throw new Error(`${e.message}; ffmpeg said: ${child.log()}`);
  });
  return child;
}

/**
 * Waits until something listens on 127.0.0.1:`port` (ffmpeg `-listen 1` accepts one connection
 * only, so probing by connecting would use it up): reads the kernel's socket table where there is
 * one, else waits a fixed 1.5 s.
 */
export async function waitListening(port: number, timeoutMs = 10_000): Promise<void> {
  const { readTextFile } = await import("../../lib/runtime/fs.ts");
  const hex = `:${port.toString(16).toUpperCase().padStart(4, "0")} `;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let table: string;
    try {
      table = await readTextFile("/proc/net/tcp");
    } catch {
      await new Promise((r) => setTimeout(r, 1500));
      return;
    }
    // Columns: sl local_address rem_address st ...; st 0A = LISTEN.
    if (table.split("\n").some((l) => l.split(/\s+/)[2]?.endsWith(hex.trim()) && l.split(/\s+/)[4] === "0A")) return;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for a listener on port ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
