/**
 * An append-only text file for log lines (`log.output: file:/var/log/strom.log`): each line is
 * appended synchronously (log lines are few next to media, and a line is on disk when the call
 * returns), and a write error is reported once instead of thrown.
 * With `maxBytes`, the file is rotated by size: `<path>` becomes `<path>.1` (`.1.gz` when
 * compressed), older files move up by one and only `maxFiles` old files are kept.
 *
 * @module
 */
import {
  closeSync,
  createReadStream,
  createWriteStream,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";

/** An open log file (see {@link openLogFile}). */
export interface LogFile {
  /** Appends a line (a newline is added). Never throws. */
  writeLine(line: string): void;
  /** Closes the file (after finishing the compression of rotated files). */
  close(): Promise<void>;
}

/** Size-based rotation of {@link openLogFile}. */
export interface LogRotation {
  /** Rotate before a line would take the file beyond this many bytes; 0 = never. */
  maxBytes: number;
  /** Old files kept (`<path>.1` ... `<path>.N`); 0 keeps none. Default 10. */
  maxFiles?: number;
  /** Gzip old files into `<path>.N.gz`. */
  compress?: boolean;
}

/**
 * Opens (creating or appending to) a log file. `onError` gets a failure to open, write, rotate or
 * compress it.
 *
 * @example
 * ```ts
 * const file = openLogFile("strom.log", (e) => writeStderr(`Cannot write log file: ${e.message}\n`), {
 *   maxBytes: 100_000_000,
 *   maxFiles: 10,
 * });
 * file.writeLine("started");
 * await file.close();
 * ```
 */
export function openLogFile(path: string, onError: (error: Error) => void, rotation?: LogRotation): LogFile {
  const maxBytes = rotation?.maxBytes && rotation.maxBytes > 0 ? rotation.maxBytes : 0;
  const maxFiles = Math.max(0, rotation?.maxFiles ?? 10);
  const suffix = rotation?.compress ? ".gz" : "";
  const encoder = new TextEncoder();
  let reported = false;
  const report = (error: Error) => {
    if (reported) return;
    reported = true;
    onError(error);
  };
  // Synchronous appends: a line is in the file when writeLine returns, so a rotation never races a
  // queued write, and nothing is lost on a crash right after logging.
  let fd: number | undefined;
  let size = 0;
  const open = () => {
    try {
      // The folder too (`/var/log/strom/strom.log` on a fresh machine), as a service's log dir.
      mkdirSync(dirname(path), { recursive: true });
      fd = openSync(path, "a");
      size = fstatSync(fd).size;
    } catch (error) {
      fd = undefined;
      report(error as Error);
    }
  };
  const closeFd = () => {
    if (fd === undefined) return;
    try {
      closeSync(fd);
    } catch {
      // Already closed.
    }
    fd = undefined;
  };
  open();
  // gzip jobs run one at a time, in rotation order, so <path>.1.gz is always the newest old file.
  let jobs: Promise<void> = Promise.resolve();

  // <path>.N moves to <path>.N+1; the oldest beyond maxFiles is deleted.
  const shift = () => {
    rmSync(`${path}.${maxFiles}${suffix}`, { force: true });
    for (let n = maxFiles - 1; n >= 1; n--) {
      if (existsSync(`${path}.${n}${suffix}`)) renameSync(`${path}.${n}${suffix}`, `${path}.${n + 1}${suffix}`);
    }
  };

  const rotate = () => {
    closeFd();
    try {
      if (maxFiles === 0) {
        rmSync(path, { force: true });
      } else if (suffix) {
        const plain = `${path}.rotating-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
        renameSync(path, plain);
        jobs = jobs.then(async () => {
          try {
            shift();
            await pipeline(createReadStream(plain), createGzip(), createWriteStream(`${path}.1${suffix}`));
            rmSync(plain, { force: true });
          } catch (error) {
            report(error as Error);
          }
        });
      } else {
        shift();
        renameSync(path, `${path}.1`);
      }
    } catch (error) {
      report(error as Error);
    }
    open();
  };

  return {
    writeLine(line) {
      const bytes = encoder.encode(line + "\n");
      if (maxBytes && size > 0 && size + bytes.length > maxBytes) rotate();
      if (fd === undefined) return;
      try {
        writeSync(fd, bytes);
        size += bytes.length;
      } catch (error) {
        report(error as Error);
      }
    },
    async close() {
      closeFd();
      await jobs;
    },
  };
}
