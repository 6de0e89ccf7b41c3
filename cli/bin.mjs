#!/usr/bin/env node
// npm bin entry (`npx strom`). Deno and Bun run cli/main.ts directly.
//
// - Source checkout (cli/main.ts beside this file, tsx installed): runs the TypeScript sources through
//   tsx, so the repo needs no build step and never runs a stale dist/ left by an earlier `npm pack`.
// - Published package (no sources, no tsx): runs the bundle dist/strom.mjs that
//   scripts/build/npm.mjs writes at pack time.
import { existsSync } from "node:fs";
import process from "node:process";

const sources = new URL("./main.ts", import.meta.url);
const bundle = new URL("../dist/strom.mjs", import.meta.url);

/** tsx's loader, or undefined when tsx is not installed (a production install). */
async function loadTsx() {
  try {
    return await import("tsx/esm/api");
  } catch (error) {
    if (error?.code === "ERR_MODULE_NOT_FOUND") return undefined;
    throw error;
  }
}

let main;
const tsx = existsSync(sources) ? await loadTsx() : undefined;
if (tsx) {
  tsx.register();
  main = await import(sources.href);
} else if (existsSync(bundle)) {
  main = await import(bundle.href);
} else {
  process.stderr.write(
    "strom: dist/strom.mjs is missing and tsx is not installed: run `npm install` (source checkout) " +
      "or `node scripts/build/npm.mjs` to build the bundle.\n",
  );
  process.exit(1);
}
// Exit explicitly: a finished command must not linger on a stray timer or socket.
process.exit(await main.run(process.argv.slice(2)));
