/**
 * Environment variables and runtime detection.
 *
 * @module
 */
import process from "node:process";

/**
 * One environment variable, or `undefined` when unset.
 *
 * @example
 * ```ts
 * const port = Number(getEnv("STROM_PORT") ?? 1984);
 * ```
 */
export function getEnv(name: string): string | undefined {
  return process.env[name];
}

/**
 * `name`'s value as a whole number from 0 to `max`; `fallback` when it is unset or blank.
 *
 * @throws {RangeError} naming the variable, its value, the range and `fix` (what to set instead).
 * @example
 * ```ts
 * const mb = wholeNumberFromEnv("STROM_MAX_SEMI_SPACE_MB", 8, 64, "use 0 for V8's own size");
 * ```
 */
export function wholeNumberFromEnv(name: string, fallback: number, max: number, fix: string): number {
  const fromEnv = getEnv(name);
  if (fromEnv === undefined || fromEnv.trim() === "") return fallback;
  const n = Number(fromEnv);
  if (!Number.isInteger(n) || n < 0 || n > max) {
    throw new RangeError(`${name}="${fromEnv}" is not a whole number from 0 to ${max}: ${fix}`);
  }
  return n;
}

/**
 * A copy of all environment variables (for `${VAR}` expansion in config files).
 *
 * @example
 * ```ts
 * const vars = envObject();
 * const text = yaml.replace(/\$\{(\w+)\}/g, (_, k) => vars[k] ?? "");
 * ```
 */
export function envObject(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) out[k] = v;
  return out;
}

/**
 * The JavaScript runtime running this code. Bun and Deno both also provide `process`, so their
 * own globals are checked first.
 *
 * @example
 * ```ts
 * console.log(`strom on ${runtimeName()}`); // "strom on deno"
 * ```
 */
export function runtimeName(): "node" | "deno" | "bun" {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  if (g.Bun !== undefined) return "bun";
  if (g.Deno !== undefined) return "deno";
  return "node";
}
