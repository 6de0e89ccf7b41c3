// The `strom` CLI as users run it: spawned through the npm bin entry (Node + tsx), plus cli/main.ts
// directly on Deno and Bun.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { hasScheme } from "../../lib/core/registry.ts";
import { registerBuiltinSources } from "../../server/sources.ts";
import { runText, type TextRunResult } from "../_support/process.ts";
import { waitForListening } from "../_support/serve_process.ts";

const root = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const bin = join(root, "cli", "bin.mjs");

/** Runs a command from the repository root to completion, killed after `timeoutMs`. */
function run(cmd: string, args: string[], timeoutMs = 20_000): Promise<TextRunResult> {
  return runText(cmd, args, { cwd: root, env: { NO_COLOR: "1" }, timeoutMs });
}

const strom = (...args: string[]) => run("node", [bin, ...args]);

describe("strom CLI", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "strom-cli-"));
    writeFileSync(join(dir, "bad.yaml"), 'api:\n  listen: ":1984"\nstreams:\n  cam: [demo:, \n  other: x\n');
    writeFileSync(join(dir, "scheme.yaml"), "streams:\n  cam: foo://10.0.0.5/1\n");
    writeFileSync(join(dir, "good.yaml"), '# ok\nstreams:\n  demo: "demo:"\n');
    writeFileSync(join(dir, "serve.yaml"), 'api:\n  listen: "127.0.0.1:0"\nrtsp:\n  listen: "127.0.0.1:0"\nstreams:\n  demo: "demo:"\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("--help lists the commands and exits 0", async () => {
    const r = await strom("--help");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage: strom");
    for (const cmd of ["serve", "config", "probe", "snapshot", "record", "relay", "transcode"]) {
      expect(r.stdout).toMatch(new RegExp(`^  ${cmd}\\b`, "m"));
    }
  }, 30_000);

  it("--help names only the inputs that are registered", async () => {
    const r = await strom("--help");
    registerBuiltinSources();
    const line = r.stdout.split("\n").find((l) => l.startsWith("Camera streaming server:")) ?? "";
    const inputs = line.slice("Camera streaming server: ".length, line.indexOf(" in;")).split(", ");
    const scheme: Record<string, string> = { RTSP: "rtsp", RTMP: "rtmp", HTTP: "http", WebRTC: "webrtc", TCP: "tcp", ONVIF: "onvif" };
    for (const name of inputs) expect({ name, registered: hasScheme(scheme[name] ?? name) }).toEqual({ name, registered: true });
    expect(inputs).toContain("RTSP");
    expect(inputs).toContain("ONVIF");
  }, 30_000);

  it("each command's help has examples", async () => {
    for (const cmd of ["probe", "snapshot", "record", "relay", "transcode"]) {
      const r = await strom(cmd, "--help");
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: strom ${cmd}`);
      expect(r.stdout).toContain(`Examples:\n  strom ${cmd} `);
    }
  }, 60_000);

  it("--version prints the package version", async () => {
    const r = await strom("--version");
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  }, 30_000);

  it("config check on malformed YAML exits 1 with file:line:column and no stack", async () => {
    const file = join(dir, "bad.yaml");
    const r = await strom("config", "check", "-c", file);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:\\d+:\\d+: `));
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr.trim().split("\n").length).toBe(1);
  }, 30_000);

  it("config check on a missing file exits 1 naming it", async () => {
    const r = await strom("config", "check", "-c", join(dir, "nope.yaml"));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("nope.yaml");
    expect(r.stderr).toContain("not found");
  }, 30_000);

  it("config check on a scheme strom lacks warns naming stream and scheme (exit 1 only with --strict)", async () => {
    // go2rtc configs hold schemes strom lacks (homekit://, tapo://): they load with a warning.
    const r = await strom("config", "check", "-c", join(dir, "scheme.yaml"));
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("streams.cam");
    expect(r.stderr).toContain('"foo"');
    expect(r.stdout).toContain("1 warning");
    const strict = await strom("config", "check", "--strict", "-c", join(dir, "scheme.yaml"));
    expect(strict.code).not.toBe(0);
  }, 30_000);

  it("config check on a valid file exits 0", async () => {
    const r = await strom("config", "check", "-c", join(dir, "good.yaml"));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("OK, 1 stream");
  }, 30_000);

  it("an unknown command fails with a suggestion", async () => {
    const r = await strom("serv");
    expect(r.code).not.toBe(0);
  }, 30_000);

  it("probe demo: --json prints medias as JSON", async () => {
    const r = await strom("probe", "demo:", "--json", "--seconds", "1");
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.medias.map((m: { kind: string }) => m.kind)).toEqual(["video", "audio"]);
    expect(result.medias[0].codecs[0].name).toBe("H264");
  }, 30_000);

  it("serve listens, answers, and exits 0 on SIGTERM", async () => {
    const child = spawn("node", [bin, "serve", "-c", join(dir, "serve.yaml")], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    try {
      // The log goes to stdout by default (log.output), errors to stderr: both are watched.
      const { url, output } = await waitForListening(child);
      const res = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(3000) });
      expect((await res.json()).status).toBe("ok");
      const exited = new Promise<string>((r) => child.on("close", (code, signal) => r(`${code}/${signal}`)));
      child.kill("SIGTERM");
      const status = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r("timeout"), 5000))]);
      // Deno's child_process reports the signal we sent instead of the exit code the child chose;
      // the "stopped" line shows the shutdown ran to its end either way.
      expect(status === "0/null" || status === "null/SIGTERM").toBe(true);
      expect(output()).toContain("received SIGTERM");
      expect(output()).toContain("INF stopped");
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  }, 40_000);

  it("serve restarts on POST /api/restart and exits with the code POST /api/exit asks for", async () => {
    const child = spawn("node", [bin, "serve", "-c", join(dir, "serve.yaml")], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    try {
      const { url, output } = await waitForListening(child);
      const exited = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
      expect((await fetch(`${url}/api/restart`, { method: "POST" })).status).toBe(200);
      // Started again from serve.yaml (api.listen is port 0 there, so on a new port): the first
      // "listening on" line after the first shutdown's "stopped".
      const secondUrl = () => {
        const after = output().split("INF stopped")[1] ?? "";
        return /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(after)?.[1];
      };
      const deadline = Date.now() + 15_000;
      while (!secondUrl() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(output()).toContain("restart asked through the API");
      expect(secondUrl()).toBeDefined();
      const res = await fetch(`${secondUrl()}/api/exit?code=3`, { method: "POST" });
      expect(await res.json()).toEqual({ exiting: true, code: 3 });
      const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r("timeout"), 10_000))]);
      expect(code).toBe(3);
      expect(output()).toContain("stopped by POST /api/exit?code=3");
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  }, 60_000);

  it("cli/main.ts runs directly on Deno and Bun", async () => {
    const deno = await run(join(root, "node_modules", ".bin", "deno"), ["run", "-A", "cli/main.ts", "--help"], 30_000);
    expect(deno.code).toBe(0);
    expect(deno.stdout).toContain("Usage: strom");
    const bun = await run(join(root, "node_modules", ".bin", "bun"), ["cli/main.ts", "--version"], 30_000);
    expect(bun.code).toBe(0);
    expect(bun.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  }, 70_000);
});
