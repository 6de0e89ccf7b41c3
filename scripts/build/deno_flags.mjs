/**
 * The V8 flags strom runs with on Deno, in one place for the Deno executable (executables.mjs) and
 * the benchmarks (scripts/bench/_setup.ts); the README and user guide give the same in their `deno
 * run` commands. V8 reads the young generation's size only at start, and Deno's V8 grows it to
 * 2 x 32 MB under a packet load: 4 MB semi-spaces took 65-80 MB off RSS at 50 WebRTC viewers at the
 * same CPU (docs/performance.md). strom caps it from inside on Node; on Deno only this flag can.
 *
 * @example
 * ```js
 * spawn("deno", ["run", "-A", `--v8-flags=${DENO_V8_FLAGS}`, "cli/main.ts", "serve"]);
 * ```
 */
export const DENO_V8_FLAGS = "--max-semi-space-size=4";
