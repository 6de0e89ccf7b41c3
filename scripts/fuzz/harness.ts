/**
 * Runs fuzz targets: feeds each one its seeds, then random and mutated inputs, and records
 * findings: an exception that is not one of the parser's domain errors (a `TypeError`,
 * `RangeError`, stack overflow... from deep inside is a bug), an input that takes longer than the
 * per-input bound, and a single allocation beyond the target's configured limit (a length field
 * read from the input must be checked before it sizes a buffer).
 *
 * @module
 */
import { bytesToBase64 } from "../../lib/core/bytes.ts";
import { MAX_INPUT, mutate, randomChunks } from "./mutate.ts";
import { Prng } from "./prng.ts";

/** One parser under test. */
export interface FuzzTarget {
  name: string;
  /** What is exercised, for the report. */
  description: string;
  /** Real inputs to start from (fixtures, generated streams). */
  seeds(): Uint8Array[] | Promise<Uint8Array[]>;
  /** Parses one input; `rng` decides chunk splits. Domain errors may be thrown. */
  run(input: Uint8Array, rng: Prng): void | Promise<void>;
  /** Largest single buffer the target may allocate, given its configured limits. */
  maxAllocBytes: number;
}

/** Something a target did wrong. */
export interface Finding {
  target: string;
  kind: "exception" | "hang" | "allocation";
  /** Error name and message, or what was too slow / too big. */
  detail: string;
  /** First stack lines, for exceptions. */
  stack?: string;
  /** The input, base64. */
  input: string;
  iteration: number;
}

/** Result of {@link fuzzTarget}. */
export interface FuzzResult {
  target: string;
  iterations: number;
  seeds: number;
  ms: number;
  findings: Finding[];
  /** Exceptions by error name (domain errors included), for the record. */
  errors: Record<string, number>;
}

/** Options of {@link fuzzTarget}. */
export interface FuzzOptions {
  seed?: number;
  /** Stop after this many inputs (seeds included). */
  iterations?: number;
  /** Stop after this long. */
  ms?: number;
  /** An input taking longer than this is a finding. Default 2000 ms. */
  perInputMs?: number;
  /** Stop after this many distinct findings. Default 20. */
  maxFindings?: number;
}

const GENERIC = new Set([
  "Error",
  "TypeError",
  "RangeError",
  "SyntaxError",
  "ReferenceError",
  "EvalError",
  "URIError",
  "AggregateError",
  "InternalError",
]);

/**
 * Whether an exception is a parser's domain error (a class with its own `name`), as opposed to a
 * crash from deep inside.
 *
 * @example
 * ```ts
 * isDomainError(new RtpParseError(...)); // true
 * isDomainError(new TypeError("x is undefined")); // false
 * ```
 */
export function isDomainError(error: unknown): boolean {
  return error instanceof Error && !GENERIC.has(error.name);
}

// --- allocation tracking ------------------------------------------------------------------------

let largest = 0;
function tracked<T extends abstract new (...args: never[]) => unknown>(Original: T, sizeOf: (args: unknown[]) => number): T {
  return new Proxy(Original, {
    construct(target, args, newTarget) {
      const size = sizeOf(args);
      if (size > largest) largest = size;
      return Reflect.construct(target, args, newTarget);
    },
  });
}
const numericSize = (bytesPer: number) => (args: unknown[]) =>
  typeof args[0] === "number" ? args[0] * bytesPer : 0;

/** Replaces the global buffer constructors with counting proxies while `fn` runs. */
async function withAllocationTracking<T>(fn: () => Promise<T>): Promise<T> {
  const g = globalThis as unknown as Record<string, unknown>;
  const saved = { Uint8Array: g.Uint8Array, ArrayBuffer: g.ArrayBuffer, Uint16Array: g.Uint16Array, Uint32Array: g.Uint32Array, Int16Array: g.Int16Array, Float32Array: g.Float32Array };
  g.Uint8Array = tracked(Uint8Array, numericSize(1));
  g.ArrayBuffer = tracked(ArrayBuffer, numericSize(1));
  g.Uint16Array = tracked(Uint16Array, numericSize(2));
  g.Int16Array = tracked(Int16Array, numericSize(2));
  g.Uint32Array = tracked(Uint32Array, numericSize(4));
  g.Float32Array = tracked(Float32Array, numericSize(4));
  try {
    return await fn();
  } finally {
    Object.assign(g, saved);
  }
}

/**
 * Fuzzes one target until the iteration or time budget is spent.
 *
 * @example
 * ```ts
 * const result = await fuzzTarget(targets.find((t) => t.name === "sdp")!, { seed: 1, iterations: 500 });
 * console.log(result.findings);
 * ```
 */
export async function fuzzTarget(target: FuzzTarget, options: FuzzOptions = {}): Promise<FuzzResult> {
  const rng = new Prng(options.seed ?? 1);
  const seeds = (await target.seeds()).filter((s) => s.length <= MAX_INPUT);
  const maxIterations = options.iterations ?? Infinity;
  const deadline = Date.now() + (options.ms ?? (options.iterations ? Infinity : 5_000));
  const perInputMs = options.perInputMs ?? 2_000;
  const maxFindings = options.maxFindings ?? 20;
  const findings: Finding[] = [];
  const seen = new Set<string>();
  const errors: Record<string, number> = {};
  const started = Date.now();
  let iteration = 0;

  const record = (f: Omit<Finding, "target" | "iteration">, key: string) => {
    if (seen.has(key)) return;
    seen.add(key);
    findings.push({ target: target.name, iteration, ...f });
  };

  await withAllocationTracking(async () => {
    while (iteration < maxIterations && Date.now() < deadline && findings.length < maxFindings) {
      let input: Uint8Array;
      if (iteration < seeds.length) input = seeds[iteration];
      else if (!seeds.length || rng.chance(0.05)) input = rng.bytes(rng.int(rng.chance(0.5) ? 64 : 4096));
      else input = mutate(rng, rng.pick(seeds), seeds);
      iteration++;
      const runRng = new Prng(rng.u32());
      largest = 0;
      const t0 = Date.now();
      try {
        const done = target.run(input, runRng);
        if (done) {
          let timer: ReturnType<typeof setTimeout> | undefined;
          await Promise.race([
            done,
            new Promise<void>((resolve) => {
              timer = setTimeout(resolve, perInputMs * 2);
            }),
          ]).finally(() => clearTimeout(timer));
        }
      } catch (error) {
        const name = error instanceof Error ? error.name : typeof error;
        errors[name] = (errors[name] ?? 0) + 1;
        if (!isDomainError(error)) {
          const stack = error instanceof Error ? (error.stack ?? "").split("\n").slice(0, 6).join("\n") : String(error);
          const where = /\((?:file:\/\/)?[^)]*\/(lib|server|scripts)\/([^):]+):(\d+)/.exec(stack)?.slice(2).join(":") ?? "";
          record(
            { kind: "exception", detail: `${name}: ${error instanceof Error ? error.message : String(error)}`, stack, input: bytesToBase64(input) },
            `exc:${name}:${where}`,
          );
        }
      }
      const took = Date.now() - t0;
      if (took > perInputMs) {
        record({ kind: "hang", detail: `one input of ${input.length} bytes took ${took} ms`, input: bytesToBase64(input) }, "hang");
      }
      if (largest > Math.max(target.maxAllocBytes, input.length * 4 + 65536)) {
        record(
          { kind: "allocation", detail: `allocated ${largest} bytes at once for an input of ${input.length} bytes (limit ${target.maxAllocBytes})`, input: bytesToBase64(input) },
          `alloc:${Math.round(Math.log2(largest))}`,
        );
      }
    }
  });
  return { target: target.name, iterations: iteration, seeds: seeds.length, ms: Date.now() - started, findings, errors };
}

export { randomChunks };
