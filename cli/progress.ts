/**
 * Progress output of the long-running subcommands: on a terminal, one line on stderr rewritten in
 * place every second; with `--json`, JSON lines on stdout (one object per event, `event` first);
 * otherwise only the plain text lines.
 *
 * @module
 */
import { stderrIsTerminal, writeStderr, writeStdout } from "../lib/runtime/host.ts";

/** How progress is shown. */
export type ProgressMode = "tty" | "json" | "none";

/** Options of a {@link Progress}. */
export interface ProgressOptions {
  /** Default: `tty` when stderr is a terminal, else `none`. */
  mode?: ProgressMode;
  /** Where JSON lines go. Default stdout. */
  printJson?: (line: string) => void;
  /** Where text lines go. Default stderr. */
  printText?: (line: string) => void;
}

/**
 * One command's progress output.
 *
 * @example
 * ```ts
 * const progress = new Progress({ mode: json ? "json" : undefined });
 * progress.event({ event: "start", src });
 * progress.every(1000, () => ({ elapsed: 1, bytes: 1000 }), (p) => `${p.elapsed} s, ${p.bytes} B`);
 * progress.line("done");
 * progress.stop();
 * ```
 */
export class Progress {
  readonly mode: ProgressMode;
  readonly #printJson: (line: string) => void;
  readonly #printText: (line: string) => void;
  #shown = false;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(o: ProgressOptions = {}) {
    this.mode = o.mode ?? (stderrIsTerminal() ? "tty" : "none");
    this.#printJson = o.printJson ?? ((line) => writeStdout(line + "\n"));
    this.#printText = o.printText ?? ((line) => writeStderr(line + "\n"));
  }

  /** A text line (on stderr); clears the progress line first. */
  line(text: string): void {
    this.#clear();
    this.#printText(text);
  }

  /** A JSON line, in `json` mode only. */
  event(event: { event: string } & Record<string, unknown>): void {
    if (this.mode === "json") this.#printJson(JSON.stringify(event));
  }

  /**
   * Every `ms`: in `tty` mode rewrites the progress line with `format(sample())`, in `json` mode
   * prints `{event: "progress", ...sample()}`.
   */
  every<T extends Record<string, unknown>>(ms: number, sample: () => T, format: (s: T) => string): void {
    clearInterval(this.#timer);
    if (this.mode === "none") return;
    this.#timer = setInterval(() => {
      const s = sample();
      if (this.mode === "json") this.event({ event: "progress", ...s });
      else {
        writeStderr(`\r\x1b[K${format(s)}`);
        this.#shown = true;
      }
    }, ms);
  }

  /** Stops the periodic output and clears the progress line. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#clear();
  }

  #clear(): void {
    if (this.#shown) writeStderr("\r\x1b[K");
    this.#shown = false;
  }
}

/**
 * A bit rate as the progress lines show it.
 *
 * @example
 * ```ts
 * formatRate(1_500_000); // "1500 kbit/s"
 * ```
 */
export function formatRate(bitsPerSecond: number): string {
  return `${Math.round(bitsPerSecond / 1000)} kbit/s`;
}
