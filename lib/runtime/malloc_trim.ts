/**
 * Hands the C heap's free pages back to the system now and then (glibc's `malloc_trim(0)`), for a
 * long-running server (`strom serve`) on Deno.
 *
 * Why: a WebRTC fan-out allocates and frees buffers per packet and viewer (node:crypto returns new
 * memory for every AES keystream, ~25 MB/s at 50 viewers of a 4 Mbit/s camera). On Deno those
 * buffers come from glibc's allocator, which keeps freed pages resident: at 50 viewers a
 * `malloc_trim(0)` from outside (a debugger) took 60-70 MB off a 250 MB RSS. glibc gives pages back
 * by itself only from the top of each heap, which a live buffer above the free ones pins. Node 20
 * has no foreign-function interface, so there this is the operator's start-time switch
 * (`MALLOC_MMAP_THRESHOLD_`, see docs/user-guide.md).
 *
 * @module
 */
import { runtimeName, wholeNumberFromEnv } from "./env.ts";

/** How often `strom serve` trims the C heap (ms). */
export const SERVE_MALLOC_TRIM_MS = 1000;

/** What {@link trimMallocPeriodically} did. `stop()` ends it (a test, or an embedder's own shutdown). */
export type MallocTrim =
  | {
    applied: true;
    periodMs: number;
    /** Trims so far, and the time they took (ms; the event loop waits for each). */
    stats(): { trims: number; pauseMs: number };
    /** Trims once now (what the timer does); returns glibc's answer: 1 if it released memory. */
    trimNow(): number;
    stop(): void;
  }
  | { applied: false; reason: "not-deno" | "disabled" | "not-linux" | "no-ffi-permission" | "no-glibc" };

/** glibc's shared library, by its soname (musl, on Alpine, has no `malloc_trim`). */
const GLIBC = "libc.so.6";

interface DenoFfi {
  build: { os: string };
  permissions: { querySync(d: { name: "ffi"; path?: string }): { state: string } };
  dlopen(
    path: string,
    symbols: { malloc_trim: { parameters: ["usize"]; result: "i32" } },
  ): { symbols: { malloc_trim(pad: bigint): number } };
}

/** glibc's `malloc_trim(0)` through Deno's foreign-function interface, or why not. */
function loadMallocTrim(): (() => number) | MallocTrim & { applied: false } {
  if (runtimeName() !== "deno") return { applied: false, reason: "not-deno" };
  const deno = (globalThis as { Deno?: DenoFfi }).Deno!;
  if (deno.build.os !== "linux") return { applied: false, reason: "not-linux" };
  // Asked without a prompt: a server started without --allow-ffi goes on without trimming.
  if (deno.permissions.querySync({ name: "ffi", path: GLIBC }).state !== "granted") {
    return { applied: false, reason: "no-ffi-permission" };
  }
  try {
    const lib = deno.dlopen(GLIBC, { malloc_trim: { parameters: ["usize"], result: "i32" } });
    return () => lib.symbols.malloc_trim(0n);
  } catch {
    return { applied: false, reason: "no-glibc" };
  }
}

/**
 * On Deno on Linux with glibc, calls `malloc_trim(0)` every `STROM_MALLOC_TRIM_MS`
 * (default {@link SERVE_MALLOC_TRIM_MS}) ms, so pages the C allocator holds free go back to the
 * system instead of staying in the process's RSS. Each call stops JavaScript for the time it takes
 * (well under a millisecond with little to release, a few ms after a burst); pages used again
 * afterwards are faulted back in by the kernel.
 *
 * Left alone: Node (no foreign-function interface), Bun (its buffers come from its own allocator,
 * not glibc's: measured, trimming changed nothing there), `STROM_MALLOC_TRIM_MS=0`, a Deno process
 * without `--allow-ffi` (no prompt is shown), another OS, and a C library without `malloc_trim`
 * (musl).
 *
 * @example
 * ```ts
 * const trim = trimMallocPeriodically();
 * if (!trim.applied) log.debug("C heap not trimmed", { reason: trim.reason });
 * ```
 */
export function trimMallocPeriodically(): MallocTrim {
  const periodMs = wholeNumberFromEnv(
    "STROM_MALLOC_TRIM_MS",
    SERVE_MALLOC_TRIM_MS,
    3_600_000,
    "use 0 to leave the C heap to glibc, or e.g. 1000 to trim it every second",
  );
  if (periodMs === 0) return { applied: false, reason: "disabled" };
  const trim = loadMallocTrim();
  if (typeof trim !== "function") return trim;

  let trims = 0;
  let pauseMs = 0;
  const trimNow = (): number => {
    const start = performance.now();
    const released = trim();
    pauseMs += performance.now() - start;
    trims++;
    return released;
  };
  const timer = setInterval(trimNow, periodMs);
  (timer as { unref?: () => void }).unref?.();
  return {
    applied: true,
    periodMs,
    stats: () => ({ trims, pauseMs }),
    trimNow,
    stop: () => clearInterval(timer),
  };
}
