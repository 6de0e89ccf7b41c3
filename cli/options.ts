/**
 * Options shared by several subcommands.
 *
 * @module
 */
import { Option } from "commander";
import { CliError } from "./errors.ts";

/** Collects a repeatable option's values into a list. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * `-c, --config <source>`: repeatable; a file path, inline YAML/JSON, or `key.path=value`.
 *
 * @example
 * ```ts
 * new Command("serve").addOption(configOption());
 * ```
 */
export function configOption(): Option {
  return new Option(
    "-c, --config <source>",
    "config file, inline YAML/JSON or key.path=value (repeatable; later ones override earlier keys)",
  ).argParser(collect).default([]);
}

/**
 * Parses a number of seconds given on the command line (fractions allowed).
 *
 * @throws {CliError} for anything that is not a positive finite number (or zero with `allowZero`).
 * @example
 * ```ts
 * parseSeconds("--duration", "2.5"); // 2.5
 * ```
 */
export function parseSeconds(option: string, value: string, options: { allowZero?: boolean } = {}): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0 || (n === 0 && !options.allowZero)) {
    throw new CliError(`Invalid ${option} "${value}": expected a number of seconds > 0, e.g. ${option} 10.`);
  }
  return n;
}

/**
 * Parses a positive integer option (pixels, counts).
 *
 * @throws {CliError} for anything else.
 * @example
 * ```ts
 * parsePositiveInt("--width", "640"); // 640
 * ```
 */
export function parsePositiveInt(option: string, value: string, max = 16384): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0 || n > max) {
    throw new CliError(`Invalid ${option} "${value}": expected a whole number from 1 to ${max}.`);
  }
  return n;
}

/**
 * `--timeout <seconds>`: how long to wait for the source.
 *
 * @example
 * ```ts
 * new Command("snapshot").addOption(timeoutOption(10, "wait this long for a keyframe"));
 * ```
 */
export function timeoutOption(defaultSeconds: number, description: string): Option {
  return new Option("--timeout <seconds>", description).default(String(defaultSeconds));
}
