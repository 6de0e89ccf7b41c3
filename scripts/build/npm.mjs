#!/usr/bin/env node
// Builds what the npm package ships, so `npx strom` runs on plain Node 20 (no tsx):
//
//   dist/strom.mjs          the CLI (cli/main.ts), ESM with a `#!/usr/bin/env node` line; exports run()
//   dist/mod.mjs            the library core (mod.ts): `import ... from "strom"`
//   dist/server.mjs         the server for embedding (server/mod.ts): `import ... from "strom/server"`
//   dist/chunks/*.mjs       code shared by both, and the HTTP adapter (loaded on demand)
//   dist/types/**/*.d.ts    declarations for library users (tsc --emitDeclarationOnly)
//
//   node scripts/build/npm.mjs                      all of the above into dist/ (run by `npm pack` as prepack)
//   node scripts/build/npm.mjs --outdir DIR         elsewhere
//   node scripts/build/npm.mjs --no-types           JavaScript only (esbuild, well under a second)
//
// npm dependencies (hono, @hono/*, werift, yaml, commander) stay external: npm installs them beside
// the package, library users share one hono with their own app, fixes to them arrive through semver
// ranges, and their CommonJS parts (ws, werift's deps) load through Node's own loader instead of an
// esbuild require() shim. The single-file, no-install form is the executables (executables.mjs).
//
// Code splitting keeps server/serve/mod.ts's dynamic import() of the HTTP adapter a real dynamic
// import: without it esbuild hoists `@hono/node-server` to the top of the file, and library users
// would load it (and its global Response replacement) without serving anything.
import { spawnSync } from "node:child_process";
import { chmodSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * Bundles the CLI and the library with esbuild and, unless `types` is false, writes declarations.
 * Returns the output files with their sizes in bytes.
 *
 * @example
 * ```js
 * await buildNpm({ outDir: "/tmp/strom-dist", types: false });
 * ```
 */
export async function buildNpm({ outDir = join(root, "dist"), types = true, log = console.log } = {}) {
  const { build } = await import("esbuild");
  // Only what this build writes: dist/bin (executables) may sit beside it and is left alone.
  for (const name of ["strom.mjs", "mod.mjs", "server.mjs", "chunks", "types"]) {
    rmSync(join(outDir, name), { recursive: true, force: true });
  }

  const started = Date.now();
  const result = await build({
    absWorkingDir: root,
    entryPoints: [
      { in: "cli/main.ts", out: "strom" },
      { in: "mod.ts", out: "mod" },
      { in: "server/mod.ts", out: "server" },
    ],
    outdir: outDir,
    outExtension: { ".js": ".mjs" },
    chunkNames: "chunks/[name]-[hash]",
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external",
    // Keep names: error classes, commander help and stack traces stay readable. The bulk of the size
    // is the embedded demo clip and web UI, which minifying would not shrink.
    minify: false,
    legalComments: "inline",
    logLevel: "warning",
    metafile: true,
  });
  if (result.errors.length) throw new Error(`esbuild failed with ${result.errors.length} error(s)`);

  // The shebang goes on the entry only (esbuild's banner would put it on every chunk).
  const cli = join(outDir, "strom.mjs");
  writeFileSync(cli, `#!/usr/bin/env node\n${readFileSync(cli, "utf8")}`);
  chmodSync(cli, 0o755);
  log(`esbuild: ${relative(process.cwd(), outDir) || "."} in ${Date.now() - started} ms`);

  if (types) buildTypes(join(outDir, "types"), log);

  const files = listFiles(outDir).filter((f) => !f.startsWith(`bin/`));
  return files.map((f) => ({ path: join(outDir, f), bytes: statSync(join(outDir, f)).size }));
}

/**
 * Declarations of mod.ts and everything it reaches, then two fixes on the output:
 * - relative specifiers end in `.ts` in the sources (allowImportingTsExtensions); a published .d.ts
 *   must name `.js` so every moduleResolution mode (node16, nodenext, bundler) finds the sibling .d.ts;
 * - the demo clip's base64 constants would be emitted as 200 KB literal types; `string` is the API.
 */
function buildTypes(typesDir, log) {
  const started = Date.now();
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
  const r = spawnSync(process.execPath, [
    tsc,
    "-p",
    join(root, "scripts/build/tsconfig.types.json"),
    "--outDir",
    typesDir,
  ], {
    cwd: root,
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`tsc --emitDeclarationOnly failed:\n${r.stdout}${r.stderr}`);
  let count = 0;
  for (const file of listFiles(typesDir)) {
    if (!file.endsWith(".d.ts")) continue;
    const path = join(typesDir, file);
    const text = readFileSync(path, "utf8");
    const fixed = text
      .replace(/((?:from|import)\s*\(?\s*["'])(\.{1,2}\/[^"']*?)\.ts(["'])/g, "$1$2.js$3")
      .replace(/^(export declare const \w+) = "[^"\n]{1024,}";$/gm, "$1: string;");
    if (fixed !== text) writeFileSync(path, fixed);
    count++;
  }
  log(`tsc: ${count} declaration files in ${Date.now() - started} ms`);
}

/** Files under `dir`, relative, with "/" separators. */
function listFiles(dir, prefix = "") {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...listFiles(join(dir, entry.name), rel));
    else out.push(rel);
  }
  return out;
}

function kb(bytes) {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const { values } = parseArgs({
    options: {
      outdir: { type: "string" },
      "no-types": { type: "boolean", default: false },
      quiet: { type: "boolean", default: false },
    },
  });
  const log = values.quiet ? () => {} : console.log;
  try {
    const outDir = values.outdir ? resolve(values.outdir) : undefined;
    const files = await buildNpm({ outDir, types: !values["no-types"], log });
    const js = files.filter((f) => f.path.endsWith(".mjs"));
    const dts = files.filter((f) => f.path.endsWith(".d.ts"));
    for (const f of js.filter((f) => !f.path.includes("/chunks/"))) {
      log(`  ${relative(process.cwd(), f.path)}  ${kb(f.bytes)}`);
    }
    log(
      `  chunks: ${js.filter((f) => f.path.includes("/chunks/")).length} files, ${
        kb(
          js.filter((f) => f.path.includes("/chunks/")).reduce((s, f) => s + f.bytes, 0),
        )
      }`,
    );
    if (dts.length) log(`  types: ${dts.length} files, ${kb(dts.reduce((s, f) => s + f.bytes, 0))}`);
  } catch (error) {
    console.error(`build failed: ${error instanceof Error ? error.message : error}`);
    process.exit(1);
  }
}
