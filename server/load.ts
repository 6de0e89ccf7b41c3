/**
 * Loads the server config from `-c` sources with the runtime's file and environment access, and
 * treats a config file that was named explicitly but does not exist as an error (a typo in `-c`
 * should not silently start an empty server).
 *
 * @module
 */
import { fileExists, getEnv, readTextFile, writeTextFile } from "../lib/runtime/mod.ts";
import { ConfigError, type ConfigIo, loadConfig, type LoadedConfig } from "./config/mod.ts";
import type { TextFileIo } from "./config_file.ts";

/** The file and environment access of the server: the config loader's plus `fileExists`. */
export type ServerIo = ConfigIo & TextFileIo;

/**
 * The runtime-backed {@link ServerIo} (atomic writes).
 *
 * @example
 * ```ts
 * await loadConfig(["strom.yaml"], runtimeIo);
 * ```
 */
export const runtimeIo: ServerIo = { readTextFile, writeTextFile, fileExists, getEnv };

/** What {@link loadServerConfig} returns: the loaded config and the io used (for write-back). */
export interface ServerConfig extends LoadedConfig {
  io: ServerIo;
}

/**
 * Loads config sources; no sources means the embedded default config.
 *
 * @throws {ConfigError} malformed YAML, a bad value, or a named config file that does not exist.
 * @example
 * ```ts
 * const { config, warnings, writablePath } = await loadServerConfig(["strom.yaml"]);
 * ```
 */
export async function loadServerConfig(
  sources: readonly string[],
  options: { io?: ServerIo; allowMissingFiles?: boolean } = {},
): Promise<ServerConfig> {
  const io = options.io ?? runtimeIo;
  const loaded = await loadConfig(sources, io);
  if (!options.allowMissingFiles) {
    const missing = loaded.warnings.find((w) => w.code === "missing-file");
    if (missing) {
      throw new ConfigError({
        file: missing.file,
        reason: "config file not found; check the path given with -c.",
      });
    }
  }
  return { ...loaded, io };
}
