/**
 * The command that runs the `strom` CLI on the runtime the test runs on (Deno: `deno run -A`,
 * Bun: `bun`, Node: the npm bin entry, which loads tsx), with absolute paths so it works from any
 * working directory (a network namespace's `ip netns exec` too).
 *
 * @module
 */
import process from "node:process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/**
 * `[program, args]` that start `strom`; append the subcommand and its options.
 *
 * @example
 * ```ts
 * const [cmd, args] = stromCommand();
 * spawn(cmd, [...args, "serve", "-c", "strom.yaml"]);
 * ```
 */
export function stromCommand(): [string, string[]] {
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  if (deno) return [deno.execPath(), ["run", "-A", "--config", `${ROOT}deno.json`, `${ROOT}cli/main.ts`]];
  if ((globalThis as { Bun?: unknown }).Bun) return [process.execPath, [`${ROOT}cli/main.ts`]];
  return [process.execPath, [`${ROOT}cli/bin.mjs`]];
}
