import { afterEach, describe, expect, test } from "bun:test";
import { execFile } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { runtimeName } from "./env.ts";
import { limitJscHeapGrowth, SERVE_JSC_HEAP_GROWTH_MB } from "./jsc_heap.ts";

const saved = {
  growth: process.env.STROM_JSC_HEAP_GROWTH_MB,
  ramSize: process.env.BUN_JSC_forceRAMSize,
};

function restore(name: "STROM_JSC_HEAP_GROWTH_MB" | "BUN_JSC_forceRAMSize", value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

const onBun = runtimeName() === "bun";

interface ProbeResult {
  applied: boolean;
  intact: boolean;
  growthMB: number;
  collections: number;
}

/** Runs testdata/jsc_heap_probe.ts in a fresh Bun process with STROM_JSC_HEAP_GROWTH_MB=`mb`. */
function probe(mb: number): Promise<ProbeResult> {
  const script = fileURLToPath(new URL("./testdata/jsc_heap_probe.ts", import.meta.url));
  const env: Record<string, string | undefined> = { ...process.env, STROM_JSC_HEAP_GROWTH_MB: String(mb) };
  delete env.BUN_JSC_forceRAMSize;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [script], { env, timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`JavaScriptCore heap probe failed: ${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout.trim().split("\n").pop() ?? "{}"));
    });
  });
}

describe("JavaScriptCore heap growth bound for strom serve", () => {
  afterEach(() => {
    restore("STROM_JSC_HEAP_GROWTH_MB", saved.growth);
    restore("BUN_JSC_forceRAMSize", saved.ramSize);
  });

  test("only on Bun; 0 turns it off; a bad value is an error naming the variable and its range", async () => {
    process.env.STROM_JSC_HEAP_GROWTH_MB = "0";
    expect(await limitJscHeapGrowth()).toEqual({ applied: false, reason: "disabled" });
    for (const bad of ["x", "-1", "1.5", "5000"]) {
      process.env.STROM_JSC_HEAP_GROWTH_MB = bad;
      await expect(limitJscHeapGrowth()).rejects.toThrow(
        `STROM_JSC_HEAP_GROWTH_MB="${bad}" is not a whole number from 0 to 4096`,
      );
    }
    delete process.env.STROM_JSC_HEAP_GROWTH_MB;
    delete process.env.BUN_JSC_forceRAMSize;
    const limit = await limitJscHeapGrowth();
    if (limit.applied) limit.stop();
    expect(limit.applied ? { applied: true, growthMB: limit.growthMB } : limit).toEqual(
      onBun ? { applied: true, growthMB: SERVE_JSC_HEAP_GROWTH_MB } : { applied: false, reason: "not-bun" },
    );
  });

  test.skipIf(!onBun)(
    "left alone when the operator sized the heap with BUN_JSC_forceRAMSize (Bun only)",
    async () => {
      process.env.BUN_JSC_forceRAMSize = "134217728";
      expect(await limitJscHeapGrowth()).toEqual({ applied: false, reason: "user-ram-size" });
    },
  );

  test.skipIf(!onBun)(
    "a heap that keeps growing past the amount gets full collections from it (Bun only)",
    async () => {
      // 32 MB live at any time, 1 MB more every 50 ms, in a fresh process. What this does to RSS is
      // measured by scripts/bench/webrtc_fanout.ts (docs/performance.md), not asserted here: the
      // heap size JavaScriptCore reports counts new ArrayBuffers late, and on a loaded machine (CI)
      // the peak it reported was the same with the bound and without.
      const bounded = await probe(4);
      expect(bounded).toMatchObject({ applied: true, intact: true });
      expect(bounded.collections).toBeGreaterThan(0);
      const free = await probe(0);
      expect(free).toMatchObject({ applied: false, intact: true, collections: 0 });
    },
  );
});
