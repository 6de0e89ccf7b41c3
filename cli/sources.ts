/**
 * The source side shared by `snapshot`, `record`, `relay` and `transcode`: the config (for stream
 * names and the `ffmpeg:` templates), the built-in source schemes, and a {@link StreamHub} that
 * turns a command-line argument — a source URL or a stream name from the config — into a
 * {@link Stream}.
 *
 * @module
 */
import { getEnv } from "../lib/runtime/env.ts";
import { writeStderr } from "../lib/runtime/host.ts";
import { StreamHub } from "../lib/core/hub.ts";
import { createLogger, isLogLevel, type Logger, silentLogger } from "../lib/core/log.ts";
import { schemeOf } from "../lib/core/registry.ts";
import type { Stream } from "../lib/core/stream.ts";
import { loadServerConfig } from "../server/load.ts";
import { configureFfmpegSources, registerBuiltinSources } from "../server/sources.ts";
import { CliError } from "./errors.ts";

/** Options of {@link openSources}. */
export interface OpenSourcesOptions {
  /** `-c` values; empty: the embedded default config (which has the `demo` stream). */
  config: readonly string[];
  /**
   * The command's own deadline for reaching the source. The streams' dial timeout is set a second
   * later, so the command's clearer "Timed out after N s ..." message wins the race.
   */
  dialTimeoutMs?: number;
}

/** What {@link openSources} returns. */
export interface CliSources {
  readonly hub: StreamHub;
  /** Library log (silent unless STROM_LOG=debug|info|... is set). */
  readonly log: Logger;
  /** The `ffmpeg:` config section (bin, templates). */
  readonly ffmpeg: Record<string, unknown>;
  /**
   * The stream for an argument: a configured stream name, else a source URL (a stream of its own).
   *
   * @throws {CliError} when the argument is neither.
   */
  stream(arg: string): Stream;
  /** Stops every source and consumer. */
  close(): Promise<void>;
}

/**
 * Loads the config, registers the built-in schemes and creates the hub; {@link CliSources.close}
 * stops every source when the command is done.
 *
 * @example
 * ```ts
 * const sources = await openSources({ config: [] });
 * const stream = sources.stream("demo:");
 * ```
 */
export async function openSources(options: OpenSourcesOptions): Promise<CliSources> {
  const loaded = await loadServerConfig(options.config);
  if (options.config.length) {
    for (const w of loaded.warnings) writeStderr(`warning: ${w.message}\n`);
  }
  const log = cliLogger();
  registerBuiltinSources({ log });
  // A short grace: an RTSP reader (transcode, relay) attaches its senders only at PLAY, after DESCRIBE
  // added it; with no grace the source would stop in between. close() stops everything anyway.
  const dialTimeoutMs = options.dialTimeoutMs === undefined ? undefined : options.dialTimeoutMs + 1000;
  const hub = new StreamHub({ graceMs: 3000, dialTimeoutMs, log });
  const ffmpeg = (loaded.config.ffmpeg ?? {}) as Record<string, unknown>;
  configureFfmpegSources(ffmpeg, (name) => hub.get(name) !== undefined);
  for (const [name, srcs] of Object.entries(loaded.config.streams ?? {})) hub.set(name, [...srcs]);
  return {
    hub,
    log,
    ffmpeg,
    stream(arg: string): Stream {
      const stream = hub.get(arg) ?? (schemeOf(arg) ? hub.set(arg, [arg]) : undefined);
      if (stream) return stream;
      const names = hub.names();
      throw new CliError(
        `"${arg}" is neither a source URL (rtsp://..., ffmpeg:..., demo:) nor a stream of the config` +
          (names.length ? ` (streams: ${names.join(", ")})` : "") + "; pass a URL or a config with -c.",
      );
    },
    close: () => hub.close(),
  };
}

/**
 * The library log for CLI commands: silent, unless the `STROM_LOG` environment variable names a
 * level (`trace`, `debug`, `info`, `warn`, `error`); lines go to stderr.
 *
 * @example
 * ```ts
 * // STROM_LOG=debug strom record rtsp://cam/1 -o a.mp4
 * const log = cliLogger();
 * ```
 */
export function cliLogger(): Logger {
  const level = getEnv("STROM_LOG")?.trim().toLowerCase();
  return level && isLogLevel(level) ? createLogger({ level }) : silentLogger;
}

/**
 * Races `promise` against a deadline; on timeout rejects with a {@link CliError} saying `what`.
 *
 * @example
 * ```ts
 * await withTimeout(stream.addConsumer(recorder), 10_000, "connecting to the source");
 * ```
 */
export async function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
  signal?: AbortSignal,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new CliError(`Timed out after ${formatSeconds(ms)} ${what}; raise it with --timeout.`)),
      ms,
    );
    if (signal) {
      onAbort = () => reject(new CliError(`Interrupted (${String(signal.reason)}) while ${what}.`, 130));
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    }
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener("abort", onAbort);
  }
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
