/**
 * Builds the server's logger from the `log:` config section: console (stderr, or stdout), an
 * optional file (`output: file:/var/log/strom.log`), and always the in-memory {@link LogBuffer}
 * behind `GET /api/log`.
 *
 * @module
 */
import { createLogger, isLogLevel, type Logger, type LogLevel, type LogRecord, silentLogger } from "../lib/core/log.ts";
import { writeStderr, writeStdout } from "../lib/runtime/host.ts";
import { type LogFile, openLogFile } from "../lib/runtime/log_file.ts";
import { type LogConfig, LOG_MODULES } from "./config/mod.ts";
import { LogBuffer } from "./log_buffer.ts";

/** The server logger and the resources behind it. */
export interface ServerLog {
  log: Logger;
  buffer: LogBuffer;
  /** Flushes and closes the log file, if any. */
  close(): Promise<void>;
}

/**
 * The log file `output` names: `file` (strom.log), `file:<path>`, or a path as the go2rtc seed article
 * writes it (`/var/log/go2rtc/go2rtc.log`: absolute, with a folder, or ending in `.log`); undefined
 * for `stdout`, `stderr`, `""` and anything else.
 *
 * @example
 * ```ts
 * logFilePath("file:/var/log/strom.log"); // "/var/log/strom.log"
 * logFilePath("/var/log/go2rtc/go2rtc.log"); // "/var/log/go2rtc/go2rtc.log"
 * logFilePath("stdout"); // undefined
 * ```
 */
export function logFilePath(output: string): string | undefined {
  if (output === "file") return "strom.log";
  if (output.startsWith("file:")) return output.slice("file:".length) || "strom.log";
  if (/[/\\]/.test(output) || /\.log$/i.test(output)) return output;
  return undefined;
}

/**
 * Creates the logger described by `config` (level, `json`/`text` format, output).
 *
 * @example
 * ```ts
 * const { log, buffer, close } = createServerLog({ level: "info", format: "text", output: "stderr" }, []);
 * log.info("listening", { url: "http://127.0.0.1:1984" });
 * await close();
 * ```
 */
export function createServerLog(
  config: Partial<LogConfig>,
  secrets: string[],
  debug: { dump_sdp?: boolean } = {},
): ServerLog {
  const buffer = new LogBuffer({ secrets });
  const level = config.level ?? "info";
  const moduleLevels: Record<string, LogLevel | "disabled"> = {};
  for (const m of LOG_MODULES) {
    const v = config[m];
    if (v === "disabled" || isLogLevel(v)) moduleLevels[m] = v;
  }
  // `level: disabled` silences everything but the modules given a level of their own.
  const anyOn = level !== "disabled" || Object.values(moduleLevels).some((v) => v !== "disabled") ||
    debug.dump_sdp === true;
  if (!anyOn) return { log: silentLogger, buffer, close: () => Promise.resolve() };

  const output = config.output ?? "stderr";
  let file: LogFile | undefined;
  let console: ((line: string) => void) | undefined;
  const path = logFilePath(output);
  if (output === "stdout") console = (line) => writeStdout(line + "\n");
  else if (output === "stderr") console = (line) => writeStderr(line + "\n");
  else if (output === "") {
    // Memory only (go2rtc's meaning): GET /api/log and the web UI still have the lines.
  } else if (path !== undefined) {
    const rotation = config.rotation;
    file = openLogFile(
      path,
      (error) => writeStderr(`Cannot write log file "${path}": ${error.message}\n`),
      rotation ? { maxBytes: rotation.max_size, maxFiles: rotation.max_files, compress: rotation.compress } : undefined,
    );
  } else {
    console = (line) => writeStderr(line + "\n");
    writeStderr(
      `log.output "${output}" is not stdout, stderr, file, file:<path>, a file path or "" (memory only); logging to stderr\n`,
    );
  }

  const log = createLogger({
    level: level === "disabled" || isLogLevel(level) ? level : "info",
    moduleLevels,
    format: config.format === "json" ? "json" : "text",
    time: config.time,
    dumpSdp: debug.dump_sdp === true,
    secrets,
    write(line: string, record: LogRecord) {
      console?.(line);
      file?.writeLine(line);
      buffer.write(record);
    },
  });
  return {
    log,
    buffer,
    close: () => file?.close() ?? Promise.resolve(),
  };
}
