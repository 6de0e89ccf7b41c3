/**
 * An append-only text file for log lines (`log.output: file:/var/log/strom.log`): lines are queued
 * in order without the caller waiting, and a write error is reported once instead of thrown.
 *
 * @module
 */
import { createWriteStream } from "node:fs";

/** An open log file (see {@link openLogFile}). */
export interface LogFile {
  /** Appends a line (a newline is added). Never throws. */
  writeLine(line: string): void;
  /** Writes what is queued and closes the file. */
  close(): Promise<void>;
}

/**
 * Opens (creating or appending to) a log file. `onError` gets a failure to open or write it.
 *
 * @example
 * ```ts
 * const file = openLogFile("strom.log", (e) => writeStderr(`Cannot write log file: ${e.message}\n`));
 * file.writeLine("started");
 * await file.close();
 * ```
 */
export function openLogFile(path: string, onError: (error: Error) => void): LogFile {
  const stream = createWriteStream(path, { flags: "a" });
  stream.on("error", onError);
  return {
    writeLine: (line) => void stream.write(line + "\n"),
    close: () => new Promise<void>((resolve) => stream.end(() => resolve())),
  };
}
