/**
 * An in-memory ring buffer of recent log lines, served by `GET /api/log` as JSON lines (like go2rtc's
 * memory log). Bounded in bytes: the oldest lines are dropped first.
 *
 * @module
 */
import { formatJson, type LogRecord } from "../lib/core/log.ts";
import { redactSecrets } from "../lib/core/redact.ts";

/** Options of {@link LogBuffer}. */
export interface LogBufferOptions {
  /** Bytes (UTF-16 code units, close enough) kept at most. Default 1 MiB, like go2rtc's 16 x 64 KB. */
  maxBytes?: number;
  /** Strings replaced by `***` in every stored line. */
  secrets?: string[];
}

/**
 * Recent log lines, oldest first, as JSON objects one per line.
 *
 * @example
 * ```ts
 * const buffer = new LogBuffer({ maxBytes: 64 * 1024 });
 * const log = createLogger({ write: (line, record) => { console.error(line); buffer.write(record); } });
 * log.info("hello");
 * buffer.text(); // '{"time":"...","level":"info","msg":"hello"}\n'
 * ```
 */
export class LogBuffer {
  readonly #maxBytes: number;
  readonly #secrets: string[];
  // A ring of lines; `#head` is the oldest.
  #lines: string[] = [];
  #head = 0;
  #bytes = 0;

  constructor(options: LogBufferOptions = {}) {
    this.#maxBytes = Math.max(1024, options.maxBytes ?? 1024 * 1024);
    this.#secrets = (options.secrets ?? []).filter((s) => s.length >= 3);
  }

  /** Number of lines held. */
  get size(): number {
    return this.#lines.length - this.#head;
  }

  /** Stores one record as a JSON line, masking URL passwords and configured secrets. */
  write(record: LogRecord): void {
    let line = redactSecrets(formatJson(record), this.#secrets);
    if (line.length > this.#maxBytes) line = line.slice(0, this.#maxBytes - 1);
    this.#lines.push(line);
    this.#bytes += line.length + 1;
    while (this.#bytes > this.#maxBytes && this.size > 0) {
      this.#bytes -= this.#lines[this.#head].length + 1;
      this.#head++;
    }
    // Compact once the dropped prefix dominates, so the array does not grow without bound.
    if (this.#head > 1024 && this.#head * 2 > this.#lines.length) {
      this.#lines = this.#lines.slice(this.#head);
      this.#head = 0;
    }
  }

  /** All held lines, oldest first, each ending in `\n`. */
  text(): string {
    const lines = this.#head ? this.#lines.slice(this.#head) : this.#lines;
    return lines.length ? lines.join("\n") + "\n" : "";
  }

  /** Drops every held line. */
  clear(): void {
    this.#lines = [];
    this.#head = 0;
    this.#bytes = 0;
  }
}
