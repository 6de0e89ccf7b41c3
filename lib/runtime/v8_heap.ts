/**
 * V8's old-generation growing factor for a long-running server (`strom serve`).
 *
 * V8 starts a major GC (marking) as soon as the room left under its old-generation limit is
 * smaller than its young generation. A server that allocates per packet grows the young
 * generation to its maximum (2 x 16 MB on 64-bit Node); after each major GC V8 sets the limit at
 * about 1.3-1.4x what survived, which leaves less room than that, so marking starts again at once.
 * Measured at 50 WebRTC viewers on Node 20: a mark-compact every 200-400 ms, each freeing ~10 MB of
 * a 40 MB heap, 42 in 40 s. With the factor fixed at 2 (`--heap-growing-percent=100`): 7 in 40 s,
 * none in the 8 s window, 24 % less CPU per viewer-second, the same RSS (the old space was already
 * committed to 65 MB). See docs/performance.md.
 *
 * @module
 */
import * as v8 from "node:v8";
import { PerformanceObserver } from "node:perf_hooks";
import process from "node:process";
import { getEnv, runtimeName, wholeNumberFromEnv } from "./env.ts";

/** The `--heap-growing-percent` `strom serve` sets: factor 2 (1 + 100 / 100). */
export const SERVE_HEAP_GROWING_PERCENT = 100;

/** What {@link tuneHeapGrowing} did. */
export type HeapTuning =
  | { applied: true; percent: number }
  | { applied: false; reason: "bun" | "user-flag" | "disabled" };

const FLAG = "--heap-growing-percent";

/** Whether the user gave one of `flags` (on the command line, in `NODE_OPTIONS` or `DENO_V8_FLAGS`): theirs wins. */
function userSetFlag(flags: readonly string[]): boolean {
  const given = `${process.execArgv?.join(" ") ?? ""} ${getEnv("NODE_OPTIONS") ?? ""} ${
    getEnv("DENO_V8_FLAGS") ?? ""
  }`;
  return flags.some((flag) => given.includes(flag));
}

/**
 * Sets V8's heap growing factor for this process, unless the user set it (in `NODE_OPTIONS` or on
 * the command line: theirs wins), `STROM_HEAP_GROWING_PERCENT=0` asks for V8's own heuristics, or
 * the runtime is Bun (JavaScriptCore has no such flag). `STROM_HEAP_GROWING_PERCENT=<n>` sets
 * another percentage. V8 reads the flag at each major GC, so setting it after start takes effect.
 * For servers: a process that should keep its heap small (a one-shot CLI command) leaves it.
 *
 * @example
 * ```ts
 * const tuning = tuneHeapGrowing();
 * if (tuning.applied) log.debug("V8 heap growing factor set", { percent: tuning.percent });
 * ```
 */
export function tuneHeapGrowing(): HeapTuning {
  const percent = wholeNumberFromEnv(
    "STROM_HEAP_GROWING_PERCENT",
    SERVE_HEAP_GROWING_PERCENT,
    1000,
    "use 0 for V8's own heuristics, or e.g. 100 for a growing factor of 2",
  );
  if (percent === 0) return { applied: false, reason: "disabled" };
  if (runtimeName() === "bun") return { applied: false, reason: "bun" };
  if (userSetFlag([FLAG, "--heap_growing_percent"])) return { applied: false, reason: "user-flag" };
  v8.setFlagsFromString(`${FLAG}=${percent}`);
  return { applied: true, percent };
}

/** The semi-space size (MB) at which `strom serve` stops V8's young generation from growing. */
export const SERVE_MAX_SEMI_SPACE_MB = 8;

/** What {@link capYoungGeneration} did. `stop()` ends it (a test, or an embedder's own shutdown). */
export type YoungGenerationCap =
  | { applied: true; semiSpaceMB: number; stop(): void }
  | { applied: false; reason: "bun" | "deno" | "v8-version" | "user-flag" | "disabled" };

/**
 * The newest V8 major version whose young generation is known to follow a growth factor set after
 * start (Node 20: 11.3). Newer V8 clamps the factor to at least 2 (`DEFINE_MIN_VALUE_IMPLICATION` in
 * its flag definitions; Deno's V8 15 behaves so), which would make the cap a silent no-op.
 */
export const YOUNG_GENERATION_CAP_MAX_V8 = 11;

const SEMI_SPACE_FLAGS = [
  "--max-semi-space-size",
  "--max_semi_space_size",
  "--semi-space-growth-factor",
  "--semi_space_growth_factor",
];

/**
 * Keeps V8's young generation at about `STROM_MAX_SEMI_SPACE_MB` (default 8) MB per semi-space, what
 * `node --max-semi-space-size=8` would give, from inside the process.
 *
 * Why: a server that allocates per packet makes V8 grow each semi-space to its 16 MB maximum, 32 MB
 * of young generation that stays resident. At 50 WebRTC viewers on Node 20, 8 MB semi-spaces took
 * 23-28 MB off RSS with no CPU cost measured; 4 MB saved ~5 MB more but cost CPU in some runs
 * (docs/performance.md).
 *
 * How: V8 reads `--max-semi-space-size` only at start, and Node 20 cannot restart itself with a
 * flag, but V8 reads `--semi-space-growth-factor` each time it grows the young generation (by that
 * factor, after a scavenge). So after each garbage collection (a `gc` PerformanceObserver, called
 * once per event loop turn that had one) this sets that factor to 1 once a semi-space has reached
 * the size, and back to V8's 2 if V8 shrank it below (an idle server), so it can grow again under
 * load. It does not shrink a young generation that is already larger, and a turn that allocates
 * enough to grow it twice can pass the size by one step; call it at start.
 *
 * Left alone: the user's own `--max-semi-space-size` or `--semi-space-growth-factor` (in
 * `NODE_OPTIONS` or on the command line), `STROM_MAX_SEMI_SPACE_MB=0`, Bun (JavaScriptCore), a V8
 * newer than {@link YOUNG_GENERATION_CAP_MAX_V8} (Node 22 and later: there
 * `NODE_OPTIONS=--max-semi-space-size=8` does it), and Deno, whose V8 (15.0) does not size its young
 * generation by that factor: only the start flag caps it there,
 * `deno run --v8-flags=--max-semi-space-size=4` (65-80 MB less RSS at 50 viewers).
 *
 * @example
 * ```ts
 * const cap = capYoungGeneration();
 * if (cap.applied) log.debug("V8 young generation capped", { semiSpaceMB: cap.semiSpaceMB });
 * ```
 */
export function capYoungGeneration(): YoungGenerationCap {
  const semiSpaceMB = wholeNumberFromEnv(
    "STROM_MAX_SEMI_SPACE_MB",
    SERVE_MAX_SEMI_SPACE_MB,
    64,
    "use 0 for V8's own young generation size, or e.g. 8 for 8 MB per semi-space",
  );
  if (semiSpaceMB === 0) return { applied: false, reason: "disabled" };
  const runtime = runtimeName();
  if (runtime === "bun") return { applied: false, reason: "bun" };
  if (runtime === "deno") return { applied: false, reason: "deno" };
  if (Number.parseInt(process.versions.v8 ?? "0", 10) > YOUNG_GENERATION_CAP_MAX_V8) {
    return { applied: false, reason: "v8-version" };
  }
  if (userSetFlag(SEMI_SPACE_FLAGS)) return { applied: false, reason: "user-flag" };

  const capBytes = semiSpaceMB * 1024 * 1024;
  let frozen = false;
  const check = (): void => {
    const newSpace = v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space");
    if (newSpace === undefined) return;
    // Used plus available is one semi-space's capacity, less V8's page headers (~2 %).
    const atCap = newSpace.space_used_size + newSpace.space_available_size >= capBytes * 0.95;
    if (atCap === frozen) return;
    frozen = atCap;
    v8.setFlagsFromString(`--semi-space-growth-factor=${atCap ? 1 : 2}`);
  };
  check();
  const observer = new PerformanceObserver(check);
  observer.observe({ entryTypes: ["gc"] });
  return {
    applied: true,
    semiSpaceMB,
    stop() {
      observer.disconnect();
      if (frozen) v8.setFlagsFromString("--semi-space-growth-factor=2");
      frozen = false;
    },
  };
}
