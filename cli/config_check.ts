/**
 * `strom config check -c strom.yaml`: loads and validates the config as `serve` would (YAML syntax,
 * types, stream source schemes), prints the warnings, and exits non-zero on an error.
 *
 * @module
 */
import { writeStderr, writeStdout } from "../lib/runtime/host.ts";
import { Command } from "commander";
import { loadServerConfig } from "../server/load.ts";
import { checkStreamSchemes, registerBuiltinSources } from "../server/sources.ts";
import { CliError } from "./errors.ts";
import { configOption } from "./options.ts";

/**
 * Validates config sources; resolves with the lines to print.
 *
 * @example
 * ```ts
 * const { warnings, summary } = await checkConfig(["strom.yaml"]);
 * ```
 */
export async function checkConfig(sources: string[]): Promise<{ warnings: string[]; summary: string }> {
  const loaded = await loadServerConfig(sources);
  registerBuiltinSources();
  const warnings = [...loaded.warnings.map((w) => w.message), ...checkStreamSchemes(loaded.config.streams ?? {})];
  const streams = Object.keys(loaded.config.streams ?? {}).length;
  const what = sources.length ? sources.join(", ") : "embedded default config";
  return {
    warnings,
    summary: `${what}: OK, ${streams} stream${streams === 1 ? "" : "s"}, ${warnings.length} warning${warnings.length === 1 ? "" : "s"}`,
  };
}

/**
 * The `config` command group (`config check`).
 *
 * @example
 * ```ts
 * program.addCommand(configCommand());
 * ```
 */
export function configCommand(): Command {
  const config = new Command("config").description("work with config files");
  config
    .command("check")
    .description("validate config files and print warnings (exit 1 on errors)")
    .addOption(configOption())
    .option("--strict", "also exit 1 when there are warnings")
    .action(async (opts: { config: string[]; strict?: boolean }) => {
      const { warnings, summary } = await checkConfig(opts.config);
      for (const w of warnings) writeStderr(`warning: ${w}\n`);
      writeStdout(summary + "\n");
      if (opts.strict && warnings.length) throw new CliError(`${warnings.length} warning(s) with --strict.`);
    });
  return config;
}
