/**
 * The layering rule of docs/architecture.md, checked on the source files: only lib/runtime/ imports
 * `node:*` (the library, the server and the CLI reach the runtime through it), apart from the
 * HTTP adapter in server/serve/. Tests and test helpers may use `node:*` directly.
 */
import { describe, expect, it } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(fileURLToPath(new URL("../..", import.meta.url)));

/** Files allowed to import `node:*` outside lib/runtime/, with the reason. */
const ALLOWED: Record<string, string> = {
  "server/serve/node.ts": "the HTTP adapter (@hono/node-server on node:http, every runtime)",
  "cli/bin.mjs": "the npm launcher, run by Node only (Deno and Bun run cli/main.ts)",
};

function sources(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== "testdata" && entry.name !== "node_modules") sources(path, out);
    } else if (/\.(ts|mjs|js)$/.test(entry.name) && !/(_test\.ts|_test_support\.ts|_testing\.ts)$/.test(entry.name)) {
      out.push(relative(root, path));
    }
  }
  return out;
}

describe("layering", () => {
  it("only lib/runtime/ (and the HTTP adapter) import node:* in lib/, server/ and cli/", () => {
    const offenders: string[] = [];
    for (const top of ["lib", "server", "cli"]) {
      for (const file of sources(join(root, top))) {
        if (file.startsWith("lib/runtime/") || file in ALLOWED) continue;
        const text = readFileSync(join(root, file), "utf8");
        for (const m of text.matchAll(/^\s*(?:import|export)\b[^;]*?from\s+["'](node:[^"']+)["']/gm)) {
          offenders.push(`${file}: ${m[1]}`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });
});
