/**
 * Structured logging with levels, as text or JSON lines, and secret masking. Runtime-neutral: the
 * output goes to a sink function (console by default; the server adds a ring buffer and files).
 *
 * @module
 */

/** Log levels, most verbose first. */
export type LogLevel = "trace" | "debug" | "info" | "warn" | "error";

const LEVELS: Record<LogLevel, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50 };

/**
 * A structured logger. Fields are merged into each record; `child` adds fields for a sub-component.
 *
 * @example
 * ```ts
 * const log = createLogger({ level: "debug" }).child({ module: "rtsp" });
 * log.info("client connected", { remote: "127.0.0.1:5000" });
 * ```
 */
export interface Logger {
  trace(msg: string, fields?: Record<string, unknown>): void;
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
  /** Whether a level would be written (skip building expensive messages otherwise). */
  enabled(level: LogLevel): boolean;
}

/** One log record as handed to a sink. */
export interface LogRecord {
  time: number;
  level: LogLevel;
  msg: string;
  fields: Record<string, unknown>;
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Lowest level written. Default `info`. */
  level?: LogLevel;
  /** `text` (default) or `json` lines. */
  format?: "text" | "json";
  /** Where formatted lines go. Default `console.error`. */
  write?: (line: string, record: LogRecord) => void;
  /** Strings replaced by `***` in every line (passwords resolved from `${VAR}`...). */
  secrets?: string[];
  /** Fields added to every record. */
  fields?: Record<string, unknown>;
}

/**
 * Whether a string is a log level.
 *
 * @example
 * ```ts
 * isLogLevel("debug"); // true
 * ```
 */
export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === "string" && value in LEVELS;
}

/**
 * Formats a record as one text line: `2026-11-25T22:41:35.123Z INF message key=value`.
 *
 * @example
 * ```ts
 * formatText({ time: Date.now(), level: "info", msg: "hi", fields: { a: 1 } });
 * ```
 */
export function formatText(record: LogRecord): string {
  const tag = record.level.slice(0, 3).toUpperCase();
  let line = `${new Date(record.time).toISOString()} ${tag} ${record.msg}`;
  for (const [k, v] of Object.entries(record.fields)) {
    const text = typeof v === "string" ? (/[\s"=]/.test(v) ? JSON.stringify(v) : v) : stringify(v);
    line += ` ${k}=${text}`;
  }
  return line;
}

/**
 * Formats a record as a JSON line with `time`, `level`, `msg` and the fields.
 *
 * @example
 * ```ts
 * formatJson({ time: 0, level: "warn", msg: "slow", fields: {} }); // {"time":"1970-...","level":"warn","msg":"slow"}
 * ```
 */
export function formatJson(record: LogRecord): string {
  return stringify({
    time: new Date(record.time).toISOString(),
    level: record.level,
    msg: record.msg,
    ...record.fields,
  });
}

function stringify(value: unknown): string {
  if (value instanceof Error) return JSON.stringify(value.message);
  try {
    return JSON.stringify(
      value,
      (_k, v) => (v instanceof Error ? v.message : typeof v === "bigint" ? String(v) : v),
    ) ??
      String(value);
  } catch {
    return String(value);
  }
}

class ConsoleLogger implements Logger {
  readonly #min: number;
  readonly #format: (r: LogRecord) => string;
  readonly #write: (line: string, record: LogRecord) => void;
  readonly #secrets: string[];
  readonly #fields: Record<string, unknown>;

  constructor(options: LoggerOptions) {
    this.#min = LEVELS[options.level ?? "info"];
    this.#format = options.format === "json" ? formatJson : formatText;
    this.#write = options.write ?? ((line) => console.error(line));
    this.#secrets = (options.secrets ?? []).filter((s) => s.length >= 3);
    this.#fields = options.fields ?? {};
  }

  enabled(level: LogLevel): boolean {
    return LEVELS[level] >= this.#min;
  }

  #log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (LEVELS[level] < this.#min) return;
    const record: LogRecord = {
      time: Date.now(),
      level,
      msg,
      fields: fields ? { ...this.#fields, ...fields } : this.#fields,
    };
    let line = this.#format(record);
    for (const secret of this.#secrets) line = line.split(secret).join("***");
    line = line.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s"]*):[^@/\s"]*@/gi, "$1:***@");
    this.#write(line, record);
  }

  trace(msg: string, fields?: Record<string, unknown>): void {
    this.#log("trace", msg, fields);
  }
  debug(msg: string, fields?: Record<string, unknown>): void {
    this.#log("debug", msg, fields);
  }
  info(msg: string, fields?: Record<string, unknown>): void {
    this.#log("info", msg, fields);
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.#log("warn", msg, fields);
  }
  error(msg: string, fields?: Record<string, unknown>): void {
    this.#log("error", msg, fields);
  }

  child(fields: Record<string, unknown>): Logger {
    return new ConsoleLogger({
      level: (Object.keys(LEVELS) as LogLevel[]).find((l) => LEVELS[l] === this.#min),
      format: this.#format === formatJson ? "json" : "text",
      write: this.#write,
      secrets: this.#secrets,
      fields: { ...this.#fields, ...fields },
    });
  }
}

/**
 * Creates a logger.
 *
 * @example
 * ```ts
 * const log = createLogger({ level: "info", format: "json", secrets: ["hunter2"] });
 * log.warn("camera slow", { stream: "door" });
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  return new ConsoleLogger(options);
}

/**
 * A logger that writes nothing (the library default).
 *
 * @example
 * ```ts
 * const hub = new StreamHub({ log: silentLogger });
 * ```
 */
export const silentLogger: Logger = {
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
  enabled() {
    return false;
  },
};
