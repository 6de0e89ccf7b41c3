#!/usr/bin/env node
// Single-file executables of the strom CLI: the runtime, the code, the web UI (server/web/assets.ts)
// and the demo clip (lib/protocol/demo/clip_data.ts) in one binary that needs nothing installed.
//
//   node scripts/build/executables.mjs                  host target, Bun and Deno, into dist/bin/
//   node scripts/build/executables.mjs --runtime bun    one runtime
//   node scripts/build/executables.mjs --target linux-arm64,darwin-arm64,windows-x64
//   node scripts/build/executables.mjs --target all     every target (`npm run build:exe`)
//   node scripts/build/executables.mjs --smoke          then run each host binary: --version, and a
//                                                       server on loopback (GET /, /api/streams, and
//                                                       ffprobe of rtsp://127.0.0.1:PORT/demo)
//
// Outputs: dist/bin/strom-<os>-<arch>-<runtime>[.exe], and dist/bin/strom-standalone.mjs (the CLI with
// every npm dependency bundled: `node|deno run -A|bun strom-standalone.mjs` with no node_modules).
//
// What needs the network:
// - Bun, host target: nothing (`bun build --compile` copies the installed bun binary).
//   Cross targets: bun downloads that target's runtime (the @oven/bun-<target> package, ~40 MB
//   compressed) from the npm registry on first use and caches it in ~/.bun/install/cache.
// - Deno, any target: `deno compile` starts from `denort`, a runtime binary that is not on npm; it is
//   downloaded from dl.deno.land (and cached in DENO_DIR) unless DENORT_BIN names a local denort of
//   the same Deno version. When it cannot be had, the Deno build is skipped with a message.
//
// Deno compiles strom-standalone.mjs (built here with esbuild) rather than cli/main.ts: from the
// source tree it would embed the whole node_modules folder (~270 MB, devDependencies included).
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { DENO_V8_FLAGS } from "./deno_flags.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const binDir = (name) => join(root, "node_modules", ".bin", name);

/** Our target names and what each runtime calls them. */
const TARGETS = {
  "linux-x64": { bun: "bun-linux-x64", deno: "x86_64-unknown-linux-gnu" },
  "linux-arm64": { bun: "bun-linux-arm64", deno: "aarch64-unknown-linux-gnu" },
  "darwin-x64": { bun: "bun-darwin-x64", deno: "x86_64-apple-darwin" },
  "darwin-arm64": { bun: "bun-darwin-arm64", deno: "aarch64-apple-darwin" },
  "windows-x64": { bun: "bun-windows-x64", deno: "x86_64-pc-windows-msvc" },
};

function hostTarget() {
  const os = process.platform === "win32" ? "windows" : process.platform;
  return `${os}-${process.arch}`;
}

function outName(target, runtime) {
  return `strom-${target}-${runtime}${target.startsWith("windows") ? ".exe" : ""}`;
}

/** Runs a command with inherited stdout and captured stderr (shown on failure, searched for causes). */
function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, {
    cwd: root,
    encoding: "utf8",
    stdio: ["ignore", "inherit", "pipe"],
    ...options,
  });
  return { ok: r.status === 0, stderr: (r.stderr ?? "") + (r.error ? String(r.error) : "") };
}

/**
 * The CLI with all npm dependencies inlined, as one ESM file that runs on Node 20, Deno and Bun
 * without node_modules. CommonJS dependencies (ws, werift's) call require(): the banner gives them
 * Node's own, so `require("events")` resolves to the builtin.
 */
async function buildStandalone(outFile) {
  const { build } = await import("esbuild");
  await build({
    absWorkingDir: root,
    entryPoints: ["cli/main.ts"],
    outfile: outFile,
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    logLevel: "error",
    banner: {
      js: [
        "#!/usr/bin/env node",
        'import { createRequire as __stromCreateRequire } from "node:module";',
        "const require = __stromCreateRequire(import.meta.url);",
      ].join("\n"),
    },
  });
  chmodSync(outFile, 0o755);
}

function buildBun(target, outFile) {
  const args = ["build", "--compile", "cli/main.ts", "--outfile", outFile];
  if (target !== hostTarget()) args.push(`--target=${TARGETS[target].bun}`);
  const r = run(binDir("bun"), args);
  if (!r.ok) return { ok: false, reason: r.stderr.trim() };
  return { ok: true };
}

function buildDeno(target, standalone, outFile) {
  // Compile from a folder of its own, without deno.json: nothing but the bundle gets embedded.
  // The V8 flags are baked in (deno_flags.mjs says why).
  const args = [
    "compile",
    "-A",
    "--no-check",
    "--no-config",
    `--v8-flags=${DENO_V8_FLAGS}`,
    "--output",
    outFile,
  ];
  if (target !== hostTarget()) args.push("--target", TARGETS[target].deno);
  args.push(standalone);
  const r = run(binDir("deno"), args, { cwd: dirname(standalone), timeout: 300_000 });
  if (r.ok) return { ok: true };
  if (/denort|dl\.deno\.land/.test(r.stderr)) {
    return {
      ok: false,
      skipped: true,
      reason: "deno compile needs its runtime binary (denort), which is not on npm and is downloaded from " +
        "dl.deno.land, not reachable from here. Set DENORT_BIN=/path/to/denort (same Deno version) to build offline.",
    };
  }
  return { ok: false, reason: r.stderr.trim() };
}

/** A child that is killed when this script ends, whatever way it ends. */
function spawnServer(file, args) {
  const child = spawn(file, args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  const kill = () => child.exitCode === null && child.kill("SIGKILL");
  process.once("exit", kill);
  return child;
}

/** Resolves with `pattern`'s first match in the child's output, or rejects after `timeoutMs`. */
function waitForOutput(child, pattern, timeoutMs) {
  return new Promise((resolvePromise, reject) => {
    let output = "";
    const timer = setTimeout(
      () => reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${output}`)),
      timeoutMs,
    );
    const onData = (d) => {
      output += d;
      const m = pattern.exec(output);
      if (m) (clearTimeout(timer), resolvePromise(m));
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("close", (code) => (clearTimeout(timer), reject(new Error(`exited ${code}:\n${output}`))));
  });
}

/** --version, then a server on loopback: the web UI, the stream list, and the demo over RTSP. */
async function smoke(file) {
  const { version } = JSON.parse(
    await (await import("node:fs/promises")).readFile(join(root, "package.json"), "utf8"),
  );
  const v = spawnSync(file, ["--version"], { encoding: "utf8", timeout: 20_000 });
  if (v.stdout.trim() !== version) {
    // A `deno` binary given as DENORT_BIN yields a plain deno, which ignores the embedded program.
    const hint = v.stdout.startsWith("deno ") ? " (DENORT_BIN must name a denort binary, not deno)" : "";
    throw new Error(`--version printed "${v.stdout.trim()}", expected ${version}${hint}`);
  }

  // Both listeners on port 0 (the kernel picks), read back from the log: no port picked here can be
  // taken by another process before the server binds it.
  const config = JSON.stringify({ rtsp: { listen: "127.0.0.1:0" }, streams: { demo: "demo:" } });
  const child = spawnServer(file, ["serve", "--listen", "127.0.0.1:0", "-c", config]);
  try {
    const [, rtspPort, url] = await waitForOutput(
      child,
      /^(?=[\s\S]*rtsp server listening[^\n]*port=(\d+))(?=[\s\S]*listening on (http:\/\/127\.0\.0\.1:\d+))/,
      20_000,
    );
    const page = await fetch(`${url}/`, { signal: AbortSignal.timeout(5000) });
    const html = await page.text();
    if (page.status !== 200 || !html.includes("<html")) throw new Error(`GET / answered ${page.status}`);
    const streams = await (await fetch(`${url}/api/streams`, { signal: AbortSignal.timeout(5000) })).json();
    if (!streams.demo) throw new Error(`/api/streams has no "demo": ${JSON.stringify(streams)}`);
    const checks = [`GET / ${html.length} B`, "/api/streams lists demo"];
    const probe = spawnSync(
      "ffprobe",
      [
        "-v",
        "error",
        "-rtsp_transport",
        "tcp",
        "-show_entries",
        "stream=codec_name",
        "-of",
        "csv=p=0",
        `rtsp://127.0.0.1:${rtspPort}/demo`,
      ],
      { encoding: "utf8", timeout: 20_000 },
    );
    if (probe.error?.code === "ENOENT") checks.push("ffprobe not installed: RTSP not checked");
    else if (probe.status !== 0) {
      throw new Error(`ffprobe rtsp://127.0.0.1:${rtspPort}/demo failed: ${probe.stderr}`);
    } else checks.push(`RTSP demo: ${probe.stdout.trim().split("\n").join(", ")}`);
    return checks.join("; ");
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => {
      const timer = setTimeout(() => (child.kill("SIGKILL"), r()), 5000);
      child.once("close", () => (clearTimeout(timer), r()));
    });
  }
}

function mib(path) {
  return `${(statSync(path).size / 1024 / 1024).toFixed(1)} MiB`;
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const { values } = parseArgs({
    options: {
      runtime: { type: "string", default: "bun,deno" },
      target: { type: "string" },
      outdir: { type: "string" },
      smoke: { type: "boolean", default: false },
    },
  });
  const runtimes = values.runtime.split(",").map((s) => s.trim()).filter(Boolean);
  const targetList = values.target === "all" ? Object.keys(TARGETS).join(",") : values.target ?? hostTarget();
  const targets = targetList.split(",").map((s) => s.trim()).filter(Boolean);
  const usage = (message) => (console.error(message), process.exit(2));
  for (const r of runtimes) {
    if (r !== "bun" && r !== "deno") usage(`Unknown runtime "${r}": use bun and/or deno`);
  }
  for (const t of targets) {
    if (!TARGETS[t]) usage(`Unknown target "${t}": use ${Object.keys(TARGETS).join(", ")}`);
  }
  const outDir = resolve(values.outdir ?? join(root, "dist", "bin"));
  mkdirSync(outDir, { recursive: true });

  const standalone = join(outDir, "strom-standalone.mjs");
  // Deno compiles the bundle from a scratch folder, so it finds no deno.json or node_modules there.
  const scratch = mkdtempSync(join(tmpdir(), "strom-exe-"));
  let failed = false;
  try {
    await buildStandalone(standalone);
    console.log(`${relative(process.cwd(), standalone)}  ${mib(standalone)}`);
    copyFileSync(standalone, join(scratch, "strom.mjs"));
    for (const target of targets) {
      for (const runtime of runtimes) {
        const file = join(outDir, outName(target, runtime));
        rmSync(file, { force: true });
        const started = Date.now();
        let result;
        if (runtime === "bun") result = buildBun(target, file);
        else result = buildDeno(target, join(scratch, "strom.mjs"), file);
        if (!result.ok) {
          console.error(
            `${outName(target, runtime)}: ${result.skipped ? "skipped" : "FAILED"}: ${result.reason}`,
          );
          if (!result.skipped || values.runtime === "deno") failed = true;
          continue;
        }
        console.log(
          `${relative(process.cwd(), file)}  ${mib(file)}  (${((Date.now() - started) / 1000).toFixed(1)} s)`,
        );
        if (values.smoke && target === hostTarget()) {
          try {
            console.log(`  smoke: ${await smoke(file)}`);
          } catch (error) {
            console.error(`  smoke FAILED: ${error instanceof Error ? error.message : error}`);
            failed = true;
          }
        }
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  process.exit(failed ? 1 : 0);
}
