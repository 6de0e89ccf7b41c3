/**
 * Structured logging with levels, as text or JSON lines, and secret masking. Runtime-neutral: the
 * output goes to a sink function (console by default; the server adds a ring buffer and files).
 *
 * @module
 */
import { redactSecrets } from "./redact.ts";

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
  /** Lowest level written; `disabled` writes nothing (except modules with a level of their own). Default `info`. */
  level?: LogLevel | "disabled";
  /** `text` (default) or `json` lines. */
  format?: "text" | "json";
  /** Where formatted lines go. Default `console.error`. */
  write?: (line: string, record: LogRecord) => void;
  /** Strings replaced by `***` in every line (passwords resolved from `${VAR}`...). */
  secrets?: string[];
  /** Fields added to every record. */
  fields?: Record<string, unknown>;
  /**
   * Levels of single modules (`log.rtsp: debug`): a `child({ module })` logger uses its module's
   * level instead of `level`. `"disabled"` silences a module.
   */
  moduleLevels?: Record<string, LogLevel | "disabled">;
  /** Timestamp format: `""`/`"rfc3339"` (default), `"UNIXMS"`, `"UNIXMICRO"` or `"UNIXNANO"` (go2rtc's `log.time`). */
  time?: string;
  /**
   * Records carrying `dump: "sdp"` are written at `info` whatever the level (`debug.dump_sdp`).
   * Without it they obey the level they were logged at (trace, usually).
   */
  dumpSdp?: boolean;
}

/** A level or `disabled`, as a threshold: `disabled` is above every level. */
function threshold(level: LogLevel | "disabled" | undefined, fallback: number): number {
  if (level === "disabled") return Infinity;
  return level && level in LEVELS ? LEVELS[level] : fallback;
}

/**
 * Formats a record's time: RFC 3339 with milliseconds, or a Unix time in ms, µs or ns
 * (go2rtc's `log.time: UNIXMS|UNIXMICRO|UNIXNANO`).
 *
 * @example
 * ```ts
 * formatTime(1_700_000_000_123, "UNIXMS"); // 1700000000123
 * formatTime(0, ""); // "1970-01-01T00:00:00.000Z"
 * ```
 */
export function formatTime(ms: number, format: string | undefined): string | number {
  switch ((format ?? "").toUpperCase()) {
    case "UNIXMS":
      return ms;
    case "UNIXMICRO":
      return ms * 1000;
    case "UNIXNANO":
      // Beyond 2^53: a string of digits keeps it exact; JSON readers take it as a number literal.
      return `${ms}000000`;
    case "UNIX":
      return Math.floor(ms / 1000);
    default:
      return new Date(ms).toISOString();
  }
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
export function formatText(record: LogRecord, time?: string): string {
  const tag = record.level.slice(0, 3).toUpperCase();
  let line = `${formatTime(record.time, time)} ${tag} ${record.msg}`;
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
export function formatJson(record: LogRecord, time?: string): string {
  const t = formatTime(record.time, time);
  if (typeof t === "string" && /^\d+$/.test(t)) {
    // UNIXNANO: an exact integer literal, not a quoted string.
    return stringify({ time: 0, level: record.level, msg: record.msg, ...record.fields }).replace(
      /^\{"time":0/,
      `{"time":${t}`,
    );
  }
  return stringify({
    time: t,
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
  readonly #options: LoggerOptions;
  readonly #min: number;
  readonly #format: (r: LogRecord) => string;
  readonly #write: (line: string, record: LogRecord) => void;
  readonly #secrets: string[];
  readonly #fields: Record<string, unknown>;

  constructor(options: LoggerOptions, min?: number) {
    this.#options = options;
    this.#fields = options.fields ?? {};
    const module = this.#fields.module;
    const base = threshold(options.level, LEVELS.info);
    this.#min = min ?? (typeof module === "string" ? threshold(options.moduleLevels?.[module], base) : base);
    const time = options.time;
    this.#format = options.format === "json" ? (r) => formatJson(r, time) : (r) => formatText(r, time);
    this.#write = options.write ?? ((line) => console.error(line));
    this.#secrets = (options.secrets ?? []).filter((s) => s.length >= 3);
  }

  enabled(level: LogLevel): boolean {
    return LEVELS[level] >= this.#min;
  }

  #log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (LEVELS[level] < this.#min) {
      if (!(this.#options.dumpSdp && fields?.dump === "sdp")) return;
      level = "info";
    }
    const record: LogRecord = {
      time: Date.now(),
      level,
      msg,
      fields: fields ? { ...this.#fields, ...fields } : this.#fields,
    };
    const line = redactSecrets(this.#format(record), this.#secrets);
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
    const options = { ...this.#options, fields: { ...this.#fields, ...fields } };
    // A new module picks its own level; otherwise the child keeps this logger's.
    const module = fields.module;
    const own = typeof module === "string" && module !== this.#fields.module ? undefined : this.#min;
    return new ConsoleLogger(options, own);
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
