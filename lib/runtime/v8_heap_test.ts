import { afterEach, describe, expect, test } from "bun:test";
import { execFile } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { runtimeName } from "./env.ts";
import {
  capYoungGeneration,
  type HeapTuning,
  SERVE_HEAP_GROWING_PERCENT,
  SERVE_MAX_SEMI_SPACE_MB,
  tuneHeapGrowing,
  YOUNG_GENERATION_CAP_MAX_V8,
} from "./v8_heap.ts";

const saved = {
  percent: process.env.STROM_HEAP_GROWING_PERCENT,
  semiSpace: process.env.STROM_MAX_SEMI_SPACE_MB,
  nodeOptions: process.env.NODE_OPTIONS,
};

type EnvName = "STROM_HEAP_GROWING_PERCENT" | "STROM_MAX_SEMI_SPACE_MB" | "NODE_OPTIONS";

function restore(name: EnvName, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

/** On Bun (JavaScriptCore, no such flag) nothing is ever set. */
function onV8(tuning: HeapTuning): HeapTuning {
  return runtimeName() === "bun" ? { applied: false, reason: "bun" } : tuning;
}

describe("V8 heap growing factor for strom serve", () => {
  afterEach(() => {
    restore("STROM_HEAP_GROWING_PERCENT", saved.percent);
    restore("NODE_OPTIONS", saved.nodeOptions);
  });

  test("set to 2x by default, or to the percentage STROM_HEAP_GROWING_PERCENT gives", () => {
    delete process.env.STROM_HEAP_GROWING_PERCENT;
    delete process.env.NODE_OPTIONS;
    expect(tuneHeapGrowing()).toEqual(onV8({ applied: true, percent: SERVE_HEAP_GROWING_PERCENT }));
    process.env.STROM_HEAP_GROWING_PERCENT = "50";
    expect(tuneHeapGrowing()).toEqual(onV8({ applied: true, percent: 50 }));
  });

  test("left alone when the user set the flag, or asked for V8's own heuristics with 0", () => {
    process.env.STROM_HEAP_GROWING_PERCENT = "0";
    expect(tuneHeapGrowing()).toEqual({ applied: false, reason: "disabled" });
    delete process.env.STROM_HEAP_GROWING_PERCENT;
    process.env.NODE_OPTIONS = "--heap-growing-percent=30";
    expect(tuneHeapGrowing()).toEqual(onV8({ applied: false, reason: "user-flag" }));
  });

  test("a bad STROM_HEAP_GROWING_PERCENT is an error naming it and the values it takes", () => {
    for (const bad of ["abc", "-5", "2.5", "5000"]) {
      process.env.STROM_HEAP_GROWING_PERCENT = bad;
      expect(() => tuneHeapGrowing()).toThrow(
        `STROM_HEAP_GROWING_PERCENT="${bad}" is not a whole number from 0 to 1000`,
      );
    }
  });
});

/** Runs testdata/young_generation_probe.ts in a fresh Node process with STROM_MAX_SEMI_SPACE_MB=`mb`. */
function probe(mb: number): Promise<{ applied: boolean; maxNewSpaceMB: number }> {
  const script = fileURLToPath(new URL("./testdata/young_generation_probe.ts", import.meta.url));
  const env: Record<string, string | undefined> = { ...process.env, STROM_MAX_SEMI_SPACE_MB: String(mb) };
  delete env.NODE_OPTIONS;
  return new Promise((resolve, reject) => {
    execFile("node", ["--import", "tsx", script], { env, timeout: 20_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`young generation probe failed: ${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout.trim().split("\n").pop() ?? "{}"));
    });
  });
}

/** Whether this V8 is one the cap applies to (Node 20's 11.x). */
const capHonoured = Number.parseInt(process.versions.v8 ?? "0", 10) <= YOUNG_GENERATION_CAP_MAX_V8;

describe("V8 young generation cap for strom serve", () => {
  afterEach(() => {
    restore("STROM_MAX_SEMI_SPACE_MB", saved.semiSpace);
    restore("NODE_OPTIONS", saved.nodeOptions);
  });

  test("applied on Node only; left alone with 0, the user's own flag, on Deno and Bun", () => {
    delete process.env.NODE_OPTIONS;
    delete process.env.STROM_MAX_SEMI_SPACE_MB;
    const cap = capYoungGeneration();
    if (cap.applied) cap.stop();
    const runtime = runtimeName();
    if (runtime === "node" && capHonoured) {
      expect(cap).toMatchObject({ applied: true, semiSpaceMB: SERVE_MAX_SEMI_SPACE_MB });
    } else if (runtime === "node") expect(cap).toEqual({ applied: false, reason: "v8-version" });
    else expect(cap).toEqual({ applied: false, reason: runtime === "bun" ? "bun" : "deno" });

    process.env.STROM_MAX_SEMI_SPACE_MB = "0";
    expect(capYoungGeneration()).toEqual({ applied: false, reason: "disabled" });
    delete process.env.STROM_MAX_SEMI_SPACE_MB;
    if (runtime === "node") {
      process.env.NODE_OPTIONS = "--max-semi-space-size=8";
      expect(capYoungGeneration()).toEqual({ applied: false, reason: "user-flag" });
    }
  });

  test("a bad STROM_MAX_SEMI_SPACE_MB is an error naming it and the values it takes", () => {
    for (const bad of ["x", "-1", "1.5", "65"]) {
      process.env.STROM_MAX_SEMI_SPACE_MB = bad;
      expect(() => capYoungGeneration()).toThrow(
        `STROM_MAX_SEMI_SPACE_MB="${bad}" is not a whole number from 0 to 64`,
      );
    }
  });

  // A fresh process, so the young generation starts small: the test runner's own may be grown already.
  test.skipIf(runtimeName() !== "node" || !capHonoured)(
    "a busy Node process keeps its young generation at the cap; without it V8 grows it past (Node 20's V8 only: newer V8, as Deno's, does not grow its young generation by a factor under 2; Bun has no V8)",
    async () => {
      const [capped, free] = await Promise.all([probe(4), probe(0)]);
      expect(capped.applied).toBe(true);
      // V8 reports both semi-spaces together: 2 x 4 MB.
      expect(capped.maxNewSpaceMB).toBeLessThanOrEqual(8);
      expect(free.applied).toBe(false);
      expect(free.maxNewSpaceMB).toBeGreaterThan(8);
    },
    30_000,
  );
});
