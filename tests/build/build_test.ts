// The npm package's JavaScript as users get it: scripts/build/npm.mjs bundles the CLI and the library
// with esbuild into a temporary folder laid out like the published package (dist/ + cli/bin.mjs, npm
// dependencies in node_modules), and plain Node 20 runs it without tsx. Declarations (tsc, ~5 s) and
// the single-file executables (scripts/build/executables.mjs) are too slow for the suite.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { runText, type TextRunResult } from "../_support/process.ts";
import { stopWithin, waitForListening } from "../_support/serve_process.ts";

const root = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const version = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }).version;

/** Runs `node args...` from the repository root to completion, killed after `timeoutMs`. */
function node(args: string[], timeoutMs = 20_000): Promise<TextRunResult> {
  return runText("node", args, { cwd: root, env: { NO_COLOR: "1" }, timeoutMs });
}

describe("npm build (esbuild bundle on plain Node)", () => {
  let pkg: string;
  beforeAll(async () => {
    pkg = mkdtempSync(join(tmpdir(), "strom-build-"));
    const r = await node(
      ["scripts/build/npm.mjs", "--outdir", join(pkg, "dist"), "--no-types", "--quiet"],
      30_000,
    );
    if (r.code !== 0) throw new Error(`scripts/build/npm.mjs exited ${r.code}:\n${r.stdout}${r.stderr}`);
    // The published layout: the launcher without the TypeScript sources beside it, and the
    // dependencies where npm would install them.
    mkdirSync(join(pkg, "cli"));
    copyFileSync(join(root, "cli", "bin.mjs"), join(pkg, "cli", "bin.mjs"));
    symlinkSync(join(root, "node_modules"), join(pkg, "node_modules"), "dir");
  }, 40_000);
  afterAll(() => {
    if (pkg) rmSync(pkg, { recursive: true, force: true });
  });

  it("writes the CLI with a shebang, the library and their chunks", () => {
    const cli = readFileSync(join(pkg, "dist", "strom.mjs"), "utf8");
    expect(cli.startsWith("#!/usr/bin/env node\n")).toBe(true);
    expect(existsSync(join(pkg, "dist", "mod.mjs"))).toBe(true);
    expect(existsSync(join(pkg, "dist", "chunks"))).toBe(true);
  });

  it("node dist/strom.mjs --version prints the package version", async () => {
    const r = await node([join(pkg, "dist", "strom.mjs"), "--version"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  }, 30_000);

  it("the bin launcher runs the bundle when there are no sources", async () => {
    const r = await node([join(pkg, "cli", "bin.mjs"), "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage: strom");
  }, 30_000);

  it("the library bundles load and export the API: the core (strom) and the server (strom/server)", async () => {
    const script = `const m = await import(${JSON.stringify(join(pkg, "dist", "mod.mjs"))});` +
      `const s = await import(${JSON.stringify(join(pkg, "dist", "server.mjs"))});` +
      `console.log(typeof m.StreamHub, typeof s.startServer, typeof m.registerSource);`;
    const r = await node(["--input-type=module", "-e", script]);
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe("function function function");
  }, 30_000);

  it("serves /api/health and stops on SIGTERM", async () => {
    const config = JSON.stringify({ rtsp: { listen: "" }, streams: { demo: "demo:" } });
    const child = spawn("node", [
      join(pkg, "cli", "bin.mjs"),
      "serve",
      "--listen",
      "127.0.0.1:0",
      "-c",
      config,
    ], {
      cwd: pkg,
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const { url, output } = await waitForListening(child, 15_000);
      expect(output()).toContain("runtime=node");
      const res = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(3000) });
      expect(res.status).toBe(200);
      const body = await res.json();
      expect(body.status).toBe("ok");
      expect(body.streams).toBe(1);
      expect(await stopWithin(child, 5000)).toBe("closed");
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  }, 30_000);
});
