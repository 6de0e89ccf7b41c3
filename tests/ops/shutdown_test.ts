// Graceful shutdown of a real `strom serve` process: SIGTERM closes WebSockets with a close frame,
// finishes the recording (the file plays), reaps the ffmpeg children and exits 0 within
// limits.shutdown_timeout.
import { afterAll, describe, expect, it } from "bun:test";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runtimeName } from "../../lib/runtime/env.ts";
import { ffprobe } from "../_support/ffmpeg.ts";
import { freePort } from "../_support/net.ts";
import { hasTool } from "../_support/process.ts";
import { closeOf, openWebSocket, waitFor } from "./_support.ts";

const hasFfmpeg = (await hasTool("ffmpeg")) && (await hasTool("ffprobe"));
const root = new URL("../../", import.meta.url).pathname;
const BOUND_S = 5;

/** `strom serve -c <file>` on the runtime running this test. */
function spawnStrom(configFile: string): ChildProcess {
  const args = ["serve", "-c", configFile];
  // stdin ignored: Deno's child_process stalls the child's output with a stdin pipe nobody writes.
  const opts = { cwd: root, stdio: ["ignore", "pipe", "pipe"] as ("ignore" | "pipe")[] };
  switch (runtimeName()) {
    case "deno":
      return spawn(process.execPath, ["run", "-A", "--no-check", join(root, "cli/main.ts"), ...args], opts);
    case "bun":
      return spawn(process.execPath, [join(root, "cli/main.ts"), ...args], opts);
    default:
      return spawn(process.execPath, [join(root, "cli/bin.mjs"), ...args], opts);
  }
}

/** Pids of the running (not zombie) children of `pid` whose command is `name`. */
function childrenNamed(pid: number, name: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const m = /^\d+ \((.*)\) (\S) (\d+)/.exec(stat);
      if (m && m[1] === name && m[2] !== "Z" && Number(m[3]) === pid) out.push(Number(entry));
    } catch { /* gone meanwhile */ }
  }
  return out;
}

function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

describe("graceful shutdown", () => {
  const dir = mkdtempSync(join(tmpdir(), "strom-shutdown-"));
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child && child.exitCode === null) child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(!hasFfmpeg)("SIGTERM: recording playable, ffmpeg children gone, WebSockets closed, exit 0 within the bound", async () => {
    const apiPort = await freePort();
    const rtspPort = await freePort();
    const recDir = join(dir, "rec");
    const configFile = join(dir, "strom.yaml");
    const logFile = join(dir, "strom.log");
    const logText = () => existsSync(logFile) ? readFileSync(logFile, "utf8") : "";
    writeFileSync(configFile, [
      `api: {listen: "127.0.0.1:${apiPort}"}`,
      `rtsp: {listen: "127.0.0.1:${rtspPort}"}`,
      'webrtc: {listen: ""}',
      "streams:",
      '  demo: "demo:"',
      '  cam: "ffmpeg:demo#video=h264"',
      "preload: {cam: video}",
      `record: {dir: ${JSON.stringify(recDir)}, streams: [demo], segment: 60s}`,
      `limits: {shutdown_timeout: ${BOUND_S}s}`,
      `log: {output: ${JSON.stringify(`file:${logFile}`)}}`,
      "",
    ].join("\n"));
    child = spawnStrom(configFile);
    let stderr = "";
    child.stderr?.on("data", (d) => (stderr += String(d)));
    child.stdout?.on("data", () => {});
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      // "close": after the exit and the last of its output (the "stopped" line).
      child!.once("close", (code, signal) => resolve({ code, signal }))
    );
    const base = `http://127.0.0.1:${apiPort}`;
    // Up: the transcoding ffmpeg runs (preload) and the recording has media in it.
    await waitFor(async () => {
      if (child!.exitCode !== null) throw new Error(`strom exited early (${child!.exitCode}): ${(stderr + logText()).slice(-1000)}`);
      const health = await fetch(`${base}/api/health`).then((r) => r.json(), () => undefined);
      return health?.stream_states?.cam?.state === "online";
    }, 40_000, `ffmpeg: stream online (stderr: ${stderr.slice(-500)})`);
    const files = () => existsSync(join(recDir, "demo")) ? readdirSync(join(recDir, "demo")).map((f) => join(recDir, "demo", f)) : [];
    await waitFor(() => files().some((f) => statSync(f).size > 50_000), 20_000, "recording growing");
    const ffmpegs = childrenNamed(child.pid!, "ffmpeg");
    expect(ffmpegs.length).toBeGreaterThan(0);
    const ws = await openWebSocket(`${base.replace("http", "ws")}/api/ws`);
    const wsClosed = closeOf(ws, (BOUND_S + 3) * 1000);

    const start = Date.now();
    child.kill("SIGTERM");
    const { code, signal } = await Promise.race([
      exited,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`strom still running ${BOUND_S + 3} s after SIGTERM`)), (BOUND_S + 3) * 1000)
      ),
    ]);
    const took = Date.now() - start;
    // Deno's child_process reports a child it sent a signal to as killed by it, whatever the child's
    // exit code; there the server's own "stopped" line shows it shut down by itself.
    const stopped = /stopped/.test(logText());
    const clean = code === 0 || (runtimeName() === "deno" && signal === "SIGTERM" && stopped);
    expect({ clean, stopped, log: clean && stopped ? "" : (stderr + logText()).slice(-1500) })
      .toEqual({ clean: true, stopped: true, log: "" });
    expect(took).toBeLessThan((BOUND_S + 1) * 1000);
    const close = await wsClosed;
    expect(close.code).toBe(1001);
    // The ffmpeg children were stopped, not left behind.
    await waitFor(() => ffmpegs.every((pid) => !running(pid)), 2000, "ffmpeg children gone");
    // Every recording segment plays: ffprobe decodes video frames from it.
    expect(files().length).toBeGreaterThan(0);
    for (const file of files().filter((f) => f.endsWith(".mp4"))) {
      const probe = await ffprobe(file, ["-count_frames", "-select_streams", "v"]);
      expect(Number(probe.streams[0]?.nb_read_frames ?? 0)).toBeGreaterThan(10);
    }
  }, 90_000);
});
