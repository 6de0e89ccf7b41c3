// The npm package as users install it: `npm pack` of a staging folder laid out like the published
// package (scripts/build/npm.mjs output with declarations, cli/bin.mjs, package.json, README), then
// `npm install <tarball>` into an empty folder. From there, as a user types them: `npx strom`,
// `bunx strom`, and `import { StreamHub } from "strom"` on Node, Bun and Deno (`npm:` specifier),
// plus the `strom/server` entry and the published declarations under tsc.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { runText, type TextRunResult } from "../_support/process.ts";
import { stopWithin, waitForListening } from "../_support/serve_process.ts";

const root = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const version = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }).version;
const bin = (name: string) => join(root, "node_modules", ".bin", name);

/** The PATH a user has after `npm install` of the repo's devDependencies: bun and deno from npm. */
const env = { NO_COLOR: "1", PATH: `${join(root, "node_modules", ".bin")}:${process.env.PATH ?? ""}` };

function sh(cmd: string, args: string[], cwd: string, timeoutMs = 30_000): Promise<TextRunResult> {
  return runText(cmd, args, { cwd, env, timeoutMs });
}

function ok(r: TextRunResult, what: string): TextRunResult {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** Every module a file loads at start: its static imports, followed through relative files. */
function staticImports(file: string, seen = new Set<string>()): string[] {
  if (seen.has(file)) return [];
  seen.add(file);
  const text = readFileSync(file, "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s*"([^"]+)"|^\s*import\s*"([^"]+)"/gm)) {
    const spec = m[1] ?? m[2];
    if (spec.startsWith(".")) out.push(...staticImports(resolve(file, "..", spec), seen));
    else out.push(spec);
  }
  return out;
}

describe("npm package (npm pack, npm install into an empty folder)", () => {
  let work: string;
  let app: string;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "strom-pack-"));
    const stage = join(work, "stage");
    app = join(work, "app");
    mkdirSync(join(stage, "cli"), { recursive: true });
    mkdirSync(app);
    ok(
      await sh("node", [join(root, "scripts/build/npm.mjs"), "--outdir", join(stage, "dist"), "--quiet"], root, 90_000),
      "scripts/build/npm.mjs",
    );
    copyFileSync(join(root, "cli", "bin.mjs"), join(stage, "cli", "bin.mjs"));
    copyFileSync(join(root, "package.json"), join(stage, "package.json"));
    copyFileSync(join(root, "README.md"), join(stage, "README.md"));
    // The build ran above; prepack would look for scripts/ that the package does not ship.
    ok(await sh("npm", ["pack", "--ignore-scripts", "--pack-destination", work], stage, 60_000), "npm pack");
    const tarball = readdirSync(work).find((f) => f.endsWith(".tgz"));
    if (!tarball) throw new Error(`npm pack wrote no tarball into ${work}`);
    // The dependencies come from npm's cache filled by the repository's own install (or the registry).
    ok(
      await sh("npm", ["install", join(work, tarball), "--prefer-offline", "--no-audit", "--no-fund"], app, 180_000),
      "npm install <tarball>",
    );
  }, 300_000);
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("ships only the built package: no TypeScript sources, scripts or tests", () => {
    const pkg = join(app, "node_modules", "strom");
    expect(existsSync(join(pkg, "dist", "strom.mjs"))).toBe(true);
    expect(existsSync(join(pkg, "dist", "mod.mjs"))).toBe(true);
    expect(existsSync(join(pkg, "dist", "server.mjs"))).toBe(true);
    expect(existsSync(join(pkg, "dist", "types", "mod.d.ts"))).toBe(true);
    expect(existsSync(join(pkg, "dist", "types", "server", "mod.d.ts"))).toBe(true);
    expect(existsSync(join(pkg, "cli", "main.ts"))).toBe(false);
    expect(existsSync(join(pkg, "lib"))).toBe(false);
    expect(existsSync(join(pkg, "tests"))).toBe(false);
  });

  it("npx strom --version and npx strom probe demo: (Node 20, no tsx)", async () => {
    const v = ok(await sh("npx", ["strom", "--version"], app), "npx strom --version");
    expect(v.stdout.trim()).toBe(version);
    const p = ok(await sh("npx", ["strom", "probe", "demo:", "--seconds", "1"], app, 40_000), "npx strom probe demo:");
    expect(p.stdout).toContain("h264");
    expect(p.stdout).toContain("aac");
  }, 60_000);

  it("npx strom serve answers /api/streams with the demo stream, stops on SIGTERM", async () => {
    const config = JSON.stringify({ rtsp: { listen: "" }, rtmp: { listen: "" }, streams: { demo: "demo:" } });
    const child = spawn("npx", ["strom", "serve", "--listen", "127.0.0.1:0", "-c", config], {
      cwd: app,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group: npx runs strom as a child, and a terminal's Ctrl-C or a service
      // manager's stop signals the whole group, not npx alone.
      detached: true,
    });
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, signal);
      } catch { /* already gone */ }
    };
    try {
      const { url } = await waitForListening(child);
      const res = await fetch(`${url}/api/streams`, { signal: AbortSignal.timeout(5000) });
      expect(res.status).toBe(200);
      expect(Object.keys(await res.json())).toContain("demo");
      expect(await stopWithin(child, 10_000, () => signalGroup("SIGTERM"))).toBe("closed");
    } finally {
      if (child.exitCode === null && child.signalCode === null) signalGroup("SIGKILL");
    }
  }, 40_000);

  it("bunx strom from the installed tarball, on Node (shebang) and on Bun (--bun)", async () => {
    const v = ok(await sh(bin("bun"), ["x", "strom", "--version"], app), "bunx strom --version");
    expect(v.stdout.trim()).toBe(version);
    const p = ok(
      await sh(bin("bun"), ["x", "--bun", "strom", "probe", "demo:", "--seconds", "1"], app, 40_000),
      "bunx --bun strom probe demo:",
    );
    expect(p.stdout).toContain("h264");
  }, 60_000);

  const script = [
    `import { Mp4Muxer, StreamHub } from "SPEC";`,
    `import { loadServerConfig, startServer } from "SPEC/server";`,
    `const hub = new StreamHub();`,
    `const { config } = await loadServerConfig(['{"streams": {"cam": "demo:"}}']);`,
    `console.log(hub.constructor.name, typeof Mp4Muxer, typeof startServer, JSON.stringify(Object.keys(config.streams)));`,
  ].join("\n");
  const expected = `StreamHub function function ["cam"]`;

  it('import { StreamHub } from "strom" and "strom/server" on Node', async () => {
    writeFileSync(join(app, "node.mjs"), script.replaceAll("SPEC", "strom"));
    const r = ok(await sh("node", ["node.mjs"], app), "node node.mjs");
    expect(r.stdout.trim()).toBe(expected);
  }, 30_000);

  it('import { StreamHub } from "strom" on Bun', async () => {
    writeFileSync(join(app, "bun.mjs"), script.replaceAll("SPEC", "strom"));
    const r = ok(await sh(bin("bun"), ["bun.mjs"], app), "bun bun.mjs");
    expect(r.stdout.trim()).toBe(expected);
  }, 30_000);

  it('import { StreamHub } from "npm:strom" on Deno', async () => {
    writeFileSync(join(app, "deno.mjs"), script.replaceAll("SPEC", "npm:strom"));
    const r = ok(await sh(bin("deno"), ["run", "-A", "deno.mjs"], app, 60_000), "deno run -A deno.mjs");
    expect(r.stdout.trim()).toBe(expected);
  }, 60_000);

  it('"strom" alone does not load the server (no hono), "strom/server" does; neither loads werift at start', () => {
    const dist = join(app, "node_modules", "strom", "dist");
    const core = staticImports(join(dist, "mod.mjs"));
    expect(core.filter((s) => s === "hono" || s.startsWith("hono/") || s.startsWith("@hono/"))).toEqual([]);
    expect(staticImports(join(dist, "server.mjs"))).toContain("hono");
    // werift (~30 MB resident on Node) loads with the first WebRTC session, not at start.
    expect(core).not.toContain("werift");
    expect(staticImports(join(dist, "server.mjs"))).not.toContain("werift");
    expect(staticImports(join(dist, "strom.mjs"))).not.toContain("werift");
  });

  it("the published declarations type-check a user's program (tsc, node16 resolution)", async () => {
    writeFileSync(
      join(app, "user.ts"),
      [
        `import { type Frame, StreamHub } from "strom";`,
        `import { type Module, type StromConfig, loadServerConfig } from "strom/server";`,
        `const hub: StreamHub = new StreamHub();`,
        `const m: Module | undefined = undefined;`,
        `const c: Promise<StromConfig> = loadServerConfig([]).then((l) => l.config);`,
        `export const used: unknown[] = [hub, m, c, null as Frame | null];`,
      ].join("\n"),
    );
    writeFileSync(
      join(app, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          module: "node16",
          moduleResolution: "node16",
          target: "ES2022",
          lib: ["ESNext", "DOM"],
          strict: true,
          noEmit: true,
          types: [],
        },
        files: ["user.ts"],
      }),
    );
    writeFileSync(join(app, "package.json"), JSON.stringify({ ...JSON.parse(readFileSync(join(app, "package.json"), "utf8")), type: "module" }));
    const r = await sh("node", [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"], app, 60_000);
    expect(`${r.stdout}${r.stderr}`).toBe("");
    expect(r.code).toBe(0);
  }, 60_000);
});
