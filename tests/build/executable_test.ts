// The single-file executable as users get it from `npm run build:exe`: the linux-x64 Bun binary
// (runtime, code, web UI and demo clip in one file), copied alone into an empty folder and run from
// there: --version, probe demo:, and a server whose web UI, stream list and RTSP demo answer.
// The cross targets (linux-arm64, darwin-x64/arm64, windows-x64) build the same way with
// `--target all` but cannot run here; building them downloads ~40 MB each, so the suite builds the
// host one only.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { spawn } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { arch, platform, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ffprobe } from "../_support/ffmpeg.ts";
import { freePort } from "../_support/net.ts";
import { hasTool, runText, type TextRunResult } from "../_support/process.ts";
import { stopWithin, waitForListening } from "../_support/serve_process.ts";

const root = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const version = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }).version;
const isLinuxX64 = platform() === "linux" && arch() === "x64";
const hasFfprobe = await hasTool("ffprobe");

function ok(r: TextRunResult, what: string): TextRunResult {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

describe.skipIf(!isLinuxX64)("single-file executable (strom-linux-x64-bun, needs a linux-x64 host)", () => {
  let work: string;
  let empty: string;
  let exe: string;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "strom-exe-test-"));
    const out = join(work, "bin");
    ok(
      await runText("node", [
        join(root, "scripts/build/executables.mjs"),
        "--runtime",
        "bun",
        "--target",
        "linux-x64",
        "--outdir",
        out,
      ], { cwd: root, timeoutMs: 120_000 }),
      "scripts/build/executables.mjs --runtime bun --target linux-x64",
    );
    expect(readdirSync(out)).toContain("strom-linux-x64-bun");
    // Alone in a folder with nothing else: no node_modules, no package.json, no sources.
    empty = join(work, "empty");
    mkdirSync(empty);
    exe = join(empty, "strom-linux-x64-bun");
    copyFileSync(join(out, "strom-linux-x64-bun"), exe);
    rmSync(out, { recursive: true, force: true });
  }, 150_000);
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("--version prints the package version", async () => {
    const r = ok(await runText(exe, ["--version"], { cwd: empty }), "--version");
    expect(r.stdout.trim()).toBe(version);
  }, 30_000);

  it("probe demo: measures the built-in demo stream", async () => {
    const r = ok(await runText(exe, ["probe", "demo:", "--seconds", "1"], { cwd: empty, timeoutMs: 30_000 }), "probe");
    expect(r.stdout).toContain("h264");
    expect(r.stdout).toContain("aac");
  }, 40_000);

  it.skipIf(!hasFfprobe)("serve: the web UI, /api/streams and the demo over RTSP (ffprobe)", async () => {
    const rtspPort = await freePort();
    const config = JSON.stringify({ rtsp: { listen: `127.0.0.1:${rtspPort}` }, rtmp: { listen: "" }, streams: { demo: "demo:" } });
    const child = spawn(exe, ["serve", "--listen", "127.0.0.1:0", "-c", config], {
      cwd: empty,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1" },
    });
    try {
      const { url, output } = await waitForListening(child);
      expect(output()).toContain("runtime=bun");
      const page = await fetch(`${url}/`, { signal: AbortSignal.timeout(5000) });
      expect(page.status).toBe(200);
      expect(await page.text()).toContain("<html");
      const streams = await (await fetch(`${url}/api/streams`, { signal: AbortSignal.timeout(5000) })).json();
      expect(Object.keys(streams)).toContain("demo");
      const probe = await ffprobe(`rtsp://127.0.0.1:${rtspPort}/demo`, ["-rtsp_transport", "tcp"]);
      expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(["aac", "h264"]);
      expect(await stopWithin(child, 10_000)).toBe("closed");
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  }, 60_000);
});
