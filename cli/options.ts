/**
 * Options shared by several subcommands.
 *
 * @module
 */
import { Option } from "commander";

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
