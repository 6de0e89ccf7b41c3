import { afterEach, describe, expect, test } from "bun:test";
import process from "node:process";
import { runtimeName } from "./env.ts";
import { JSC_HEAP_CHECK_MS, limitJscHeapGrowth, SERVE_JSC_HEAP_GROWTH_MB } from "./jsc_heap.ts";

const saved = {
  growth: process.env.STROM_JSC_HEAP_GROWTH_MB,
  ramSize: process.env.BUN_JSC_forceRAMSize,
};

function restore(name: "STROM_JSC_HEAP_GROWTH_MB" | "BUN_JSC_forceRAMSize", value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

const onBun = runtimeName() === "bun";

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
    "garbage past the amount is collected: the heap stays within it of what lives (Bun only)",
    async () => {
      process.env.STROM_JSC_HEAP_GROWTH_MB = "4";
      const limit = await limitJscHeapGrowth();
      if (!limit.applied) throw new Error(`not applied: ${limit.reason}`);
      try {
        // As a fan-out's buffers: each lives a while (24 MB live at any time), then is garbage;
        // 1 MB more every 50 ms. Left to itself, JavaScriptCore let this heap reach 43 MB above
        // where it started.
        const jsc = (await import(["bun", "jsc"].join(":"))) as { heapSize(): number };
        const start = jsc.heapSize();
        const ring: Uint8Array[] = new Array(384);
        let next = 0;
        let peak = 0;
        for (let turn = 0; turn < 80; turn++) {
          for (let j = 0; j < 16; j++) ring[next++ % ring.length] = new Uint8Array(64 * 1024).fill(turn);
          await new Promise((r) => setTimeout(r, 50));
          peak = Math.max(peak, jsc.heapSize());
        }
        expect(ring.every((b) => b.length === 64 * 1024)).toBe(true);
        expect(limit.stats().collections).toBeGreaterThan(0);
        // Live 24 MB, the 4 MB allowed, what one check interval (4 turns) adds, and 4 MB of slack.
        expect((peak - start) / 1048576).toBeLessThan(24 + 4 + 4 + 4);
      } finally {
        limit.stop();
      }
    },
  );
});
