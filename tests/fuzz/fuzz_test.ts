// The short fuzz run of CI: every target in scripts/fuzz/targets.ts for a bounded number of inputs
// (its seeds first, then mutated and random ones, fixed PRNG seed), asserting no finding: no
// exception other than the parser's domain errors, no input slower than the bound, no allocation
// beyond the target's configured limits. The long run: `node --import tsx scripts/fuzz/run.ts
// --target all --seconds 600` (docs/fuzzing.md).
import { describe, expect, it } from "bun:test";
import { fuzzTarget, isDomainError } from "../../scripts/fuzz/harness.ts";
import { Prng } from "../../scripts/fuzz/prng.ts";
import { targets } from "../../scripts/fuzz/targets.ts";

// A few seconds in all per runtime: slower targets (whole config loads, TS streams) get fewer inputs.
const ITERATIONS = 1_500;
const SLOW: Record<string, number> = { ws: 100, yaml_config: 100, rtp: 800, mpegts: 500, rtsp: 800, multipart: 600, flv: 800 };

describe("fuzz harness", () => {
  it("the PRNG is deterministic per seed", () => {
    const a = new Prng(42);
    const b = new Prng(42);
    const c = new Prng(43);
    const xs = Array.from({ length: 8 }, () => a.u32());
    expect(Array.from({ length: 8 }, () => b.u32())).toEqual(xs);
    expect(Array.from({ length: 8 }, () => c.u32())).not.toEqual(xs);
  });

  it("tells domain errors from crashes", () => {
    class SdpError extends SyntaxError {
      override name = "SdpError";
    }
    expect(isDomainError(new SdpError("bad"))).toBe(true);
    expect(isDomainError(new TypeError("x is undefined"))).toBe(false);
    expect(isDomainError(new RangeError("Maximum call stack size exceeded"))).toBe(false);
    expect(isDomainError("a string")).toBe(false);
  });

  it("reports a crash, a slow input and an oversized allocation as findings", async () => {
    const result = await fuzzTarget({
      name: "broken",
      description: "a parser with every kind of bug",
      maxAllocBytes: 1024,
      seeds: () => [new Uint8Array([1]), new Uint8Array([2]), new Uint8Array([3])],
      run(input) {
        if (input[0] === 1) throw new TypeError("boom");
        if (input[0] === 2) new Uint8Array(10 * 1024 * 1024);
        if (input[0] === 3) {
          const until = Date.now() + 60;
          while (Date.now() < until) { /* busy */ }
        }
      },
    }, { iterations: 3, perInputMs: 30 });
    expect(result.findings.map((f) => f.kind).sort()).toEqual(["allocation", "exception", "hang"]);
  });
});

describe("short fuzz run of every parser", () => {
  for (const target of targets) {
    const iterations = SLOW[target.name] ?? ITERATIONS;
    it(`${target.name}: ${iterations} inputs, no finding`, async () => {
      const result = await fuzzTarget(target, { seed: 1, iterations, ms: 8_000, perInputMs: 2_000 });
      expect(result.seeds).toBeGreaterThan(0);
      expect(result.findings).toEqual([]);
      expect(result.iterations).toBeGreaterThan(result.seeds);
    }, 20_000);
  }
});
