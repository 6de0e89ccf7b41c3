/**
 * What config loading reports: `ConfigError` (fatal: wrong type, bad value, malformed YAML, unreadable
 * file) and `ConfigWarning` (the server still starts: unknown key, unresolved `${VAR}`, missing file).
 *
 * Both carry the location as fields and in the message, `file:line:column: reason`, the format
 * editors and terminals turn into links.
 *
 * @module
 */

/**
 * A config that cannot be used. `line`/`column` are 1-based; 0 when the problem has no position
 * (e.g. the file could not be read). `path` is the dotted key path (`"api.listen"`), `""` when none.
 *
 * @example
 * ```ts
 * try { await loadConfig(["strom.yaml"], io); } catch (e) {
 *   if (e instanceof ConfigError) console.error(e.message); // strom.yaml:7:3: "api.listen" must be ...
 * }
 * ```
 */
export class ConfigError extends Error {
  override name = "ConfigError";
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly path: string;
  /** The message without the location prefix. */
  readonly reason: string;
  constructor(
    o: { file: string; line?: number; column?: number; path?: string; reason: string; cause?: unknown },
  ) {
    super(`${formatLocation(o.file, o.line ?? 0, o.column ?? 0)}: ${o.reason}`, { cause: o.cause });
    this.file = o.file;
    this.line = o.line ?? 0;
    this.column = o.column ?? 0;
    this.path = o.path ?? "";
    this.reason = o.reason;
  }
}

/** What kind of warning: lets callers filter or count without parsing messages. */
export type ConfigWarningCode =
  | "unknown-key"
  | "unsupported-section"
  | "not-implemented"
  | "unresolved-variable"
  | "missing-file"
  | "list-form"
  | "yaml";

/**
 * A problem that does not stop the server. `message` is complete (location included) and ready to log.
 *
 * @example
 * ```ts
 * for (const w of warnings) log.warn(w.message); // strom.yaml:12: unknown key "rtsp.udpp" (did you mean "udp"?)
 * ```
 */
export interface ConfigWarning {
  code: ConfigWarningCode;
  file: string;
  /** 1-based; 0 when not tied to a line. */
  line: number;
  /** Dotted key path, `""` when none. */
  path: string;
  message: string;
}

/**
 * Builds a warning whose message is `file:line: reason`.
 *
 * @example
 * ```ts
 * configWarning("unknown-key", "strom.yaml", 12, "rtsp.udpp", 'unknown key "rtsp.udpp"');
 * ```
 */
export function configWarning(
  code: ConfigWarningCode,
  file: string,
  line: number,
  path: string,
  reason: string,
): ConfigWarning {
  return { code, file, line, path, message: `${formatLocation(file, line, 0)}: ${reason}` };
}

/**
 * `file`, `file:line` or `file:line:column`, leaving out the parts that are unknown (0).
 *
 * @example
 * ```ts
 * formatLocation("strom.yaml", 7, 3); // "strom.yaml:7:3"
 * ```
 */
export function formatLocation(file: string, line: number, column: number): string {
  if (line <= 0) return file;
  if (column <= 0) return `${file}:${line}`;
  return `${file}:${line}:${column}`;
}
