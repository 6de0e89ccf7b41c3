/**
 * A bound on how far Bun's (JavaScriptCore's) heap grows past what survived its last collection,
 * for a long-running server (`strom serve`).
 *
 * JavaScriptCore sizes its heap from the machine's memory: on a machine with gigabytes free it lets
 * the heap reach about twice what survived before it collects in full, and RSS follows the heap.
 * A WebRTC fan-out allocates per packet and viewer (node:crypto returns new memory for every AES
 * keystream: the stream's bitrate times the viewers, ~25 MB/s at 50 viewers of a 4 Mbit/s camera),
 * so the heap swung between ~28 and ~64 MB and strom's peak RSS reached 185-217 MB at 50 viewers.
 * The start-time switch (`BUN_JSC_forceRAMSize`) cannot be set from inside the process; this
 * collects in full itself once the heap has grown by a set amount since the last collection.
 * See docs/performance.md.
 *
 * @module
 */
import { getEnv, runtimeName, wholeNumberFromEnv } from "./env.ts";

/** MB of heap growth since the last collection at which `strom serve` on Bun collects in full. */
export const SERVE_JSC_HEAP_GROWTH_MB = 16;

/** How often the heap size is read (ms): ~1-4 us a read on Bun. */
export const JSC_HEAP_CHECK_MS = 200;

/** What {@link limitJscHeapGrowth} did. `stop()` ends it (a test, or an embedder's own shutdown). */
export type JscHeapLimit =
  | {
    applied: true;
    growthMB: number;
    /** Full collections this started so far, and the time they took (ms). */
    stats(): { collections: number; pauseMs: number };
    stop(): void;
  }
  | { applied: false; reason: "not-bun" | "user-ram-size" | "disabled" };

interface BunGc {
  gc(force: boolean): void;
}

/** `bun:jsc`'s heap size: the JavaScriptCore heap with the memory its objects hold outside it
 * (ArrayBuffers, counted once a collection has seen them), which `process.memoryUsage().heapUsed`
 * leaves out on Bun: with that measure the bound hardly acted (docs/performance.md). */
interface BunJsc {
  heapSize(): number;
}

/** Named in a variable so bundlers and Deno leave the import to Bun. */
const BUN_JSC = "bun:jsc";

/**
 * On Bun, collects the heap in full (`Bun.gc(true)`) whenever it has grown by
 * `STROM_JSC_HEAP_GROWTH_MB` (default {@link SERVE_JSC_HEAP_GROWTH_MB}) MB since the smallest size
 * seen after a collection (JavaScriptCore's own or this one's), read every {@link JSC_HEAP_CHECK_MS}
 * ms. Each such collection stops JavaScript for the time it takes (~20 ms for a 30 MB live heap
 * at 50 WebRTC viewers); a server with little garbage (an RTSP reader or two) rarely reaches the
 * amount.
 *
 * Left alone: Node and Deno (V8: see lib/runtime/v8_heap.ts), `STROM_JSC_HEAP_GROWTH_MB=0`, and a
 * process started with `BUN_JSC_forceRAMSize` (the operator sized JavaScriptCore's heap already).
 *
 * @example
 * ```ts
 * const limit = await limitJscHeapGrowth();
 * if (limit.applied) log.debug("heap growth bounded", { growthMB: limit.growthMB });
 * ```
 */
export async function limitJscHeapGrowth(): Promise<JscHeapLimit> {
  const growthMB = wholeNumberFromEnv(
    "STROM_JSC_HEAP_GROWTH_MB",
    SERVE_JSC_HEAP_GROWTH_MB,
    4096,
    "use 0 for JavaScriptCore's own collections, or e.g. 16 to collect after 16 MB of growth",
  );
  if (growthMB === 0) return { applied: false, reason: "disabled" };
  const bun = (globalThis as { Bun?: BunGc }).Bun;
  if (runtimeName() !== "bun" || typeof bun?.gc !== "function") return { applied: false, reason: "not-bun" };
  if (getEnv("BUN_JSC_forceRAMSize") !== undefined) return { applied: false, reason: "user-ram-size" };

  const jsc = (await import(BUN_JSC)) as BunJsc;
  const growth = growthMB * 1024 * 1024;
  let floor = jsc.heapSize();
  let collections = 0;
  let pauseMs = 0;
  const timer = setInterval(() => {
    const size = jsc.heapSize();
    if (size < floor) floor = size; // JavaScriptCore collected on its own
    if (size - floor < growth) return;
    const start = performance.now();
    bun.gc(true);
    pauseMs += performance.now() - start;
    collections++;
    floor = jsc.heapSize();
  }, JSC_HEAP_CHECK_MS);
  (timer as { unref?: () => void }).unref?.();
  return {
    applied: true,
    growthMB,
    stats: () => ({ collections, pauseMs }),
    stop: () => clearInterval(timer),
  };
}
