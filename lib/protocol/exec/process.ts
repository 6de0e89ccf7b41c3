/**
 * A supervised child process for exec sources: stderr goes to the logger and into a ring buffer of
 * the last lines (so a failure can say why), and stopping is guaranteed to end the process.
 *
 * @module
 */
import { type Logger, silentLogger } from "../../core/log.ts";
import { type ChildProcess, type ExitStatus, type KillSignal, spawn } from "../../runtime/process.ts";

/** Options of {@link ExecProcess.spawn}. */
export interface ExecProcessOptions {
  /** Signal sent by {@link ExecProcess.stop}. Default SIGKILL. */
  killSignal?: KillSignal;
  /**
   * After `killSignal`, send SIGKILL when the process is still running after this many ms.
   * (The runtime port also escalates SIGTERM/SIGINT to SIGKILL after 2 s on its own.)
   */
  killTimeoutMs?: number;
  /** Lines of stderr kept for error messages. Default 50. */
  stderrLines?: number;
  /** Receives each stderr line at debug level. */
  log?: Logger;
  /** Pipe stdin (backchannel). Default false. */
  stdin?: boolean;
  /** Pipe stdout. Default true. */
  stdout?: boolean;
  env?: Record<string, string>;
  cwd?: string;
}

/**
 * A command failed: it exited (with the code or signal), or did not start producing in time. Carries
 * the last stderr lines, which usually say what went wrong.
 *
 * @example
 * ```ts
 * try { await dialExec("exec:ffmpeg -i /missing.mp4 -f mjpeg -"); } catch (e) {
 *   if (e instanceof ExecError) console.log(e.code, e.stderr.at(-1)); // 1 "/missing.mp4: No such file or directory"
 * }
 * ```
 */
export class ExecError extends Error {
  override name = "ExecError";
  /** The command line. */
  readonly command: string;
  /** Exit code, when it exited by itself. */
  readonly code: number | null;
  /** Signal that ended it, when one did. */
  readonly signal: string | null;
  /** The last stderr lines, oldest first. */
  readonly stderr: string[];
  constructor(
    command: string,
    reason: string,
    status: Partial<ExitStatus> = {},
    stderr: string[] = [],
    options?: { cause?: unknown },
  ) {
    const tail = stderr.length
      ? `. Last stderr lines:\n  ${stderr.slice(-10).join("\n  ")}`
      : " (nothing on stderr)";
    super(`Command "${command}" ${reason}${tail}`, options);
    this.command = command;
    this.code = status.code ?? null;
    this.signal = status.signal ?? null;
    this.stderr = stderr;
  }
}

// ffmpeg can print very long lines (a whole SDP, a stream map); keep memory bounded.
const MAX_LINE = 2000;
// After exit, wait at most this long for the rest of stderr (a grandchild may hold the pipe open).
const STDERR_DRAIN_MS = 500;

/**
 * A running command. Create with {@link ExecProcess.spawn}; always end with {@link stop} (or await
 * {@link waitExit} when it ends by itself).
 *
 * @example
 * ```ts
 * const proc = ExecProcess.spawn("ffmpeg", ["-i", "rtsp://cam/1", "-c", "copy", "-f", "mpegts", "-"], { log });
 * for await (const chunk of proc.stdout!) demuxer.push(chunk);
 * const status = await proc.waitExit();
 * if (status.code !== 0) throw proc.exitError(status);
 * ```
 */
export class ExecProcess {
  readonly command: string;
  readonly args: readonly string[];
  readonly pid: number;
  readonly stdout: ReadableStream<Uint8Array> | undefined;
  readonly stdin: WritableStream<Uint8Array> | undefined;
  /** Resolves when the process exited; never rejects. */
  readonly exited: Promise<ExitStatus>;
  readonly #child: ChildProcess;
  readonly #log: Logger;
  readonly #killSignal: KillSignal;
  readonly #killTimeoutMs: number | undefined;
  readonly #ring: string[];
  #ringStart = 0;
  #ringSize = 0;
  readonly #stderrDone: Promise<void>;
  #hasExited = false;
  #stopping: Promise<ExitStatus> | undefined;

  private constructor(command: string, args: string[], child: ChildProcess, options: ExecProcessOptions) {
    this.command = command;
    this.args = args;
    this.#child = child;
    this.pid = child.pid;
    this.stdout = child.stdout;
    this.stdin = child.stdin;
    this.#log = options.log ?? silentLogger;
    this.#killSignal = options.killSignal ?? "SIGKILL";
    this.#killTimeoutMs = options.killTimeoutMs;
    this.#ring = new Array(Math.max(1, options.stderrLines ?? 50));
    this.exited = child.exited.then((status) => {
      this.#hasExited = true;
      return status;
    });
    this.#stderrDone = child.stderr ? this.#readStderr(child.stderr) : Promise.resolve();
  }

  /**
   * Starts a command.
   *
   * @throws {SpawnError} (lib/runtime) when it cannot be started: not found, not executable.
   */
  static spawn(command: string, args: string[], options: ExecProcessOptions = {}): ExecProcess {
    const child = spawn(command, args, {
      stdin: options.stdin ? "pipe" : "ignore",
      stdout: options.stdout === false ? "ignore" : "pipe",
      stderr: "pipe",
      env: options.env,
      cwd: options.cwd,
    });
    return new ExecProcess(command, args, child, options);
  }

  /** The command line, for messages. */
  get commandLine(): string {
    return [this.command, ...this.args].map((a) => (/[\s"]/.test(a) || a === "" ? JSON.stringify(a) : a))
      .join(" ");
  }

  /** Whether the process has exited. */
  get hasExited(): boolean {
    return this.#hasExited;
  }

  /** The last stderr lines, oldest first. */
  stderrTail(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.#ringSize; i++) out.push(this.#ring[(this.#ringStart + i) % this.#ring.length]);
    return out;
  }

  /** Waits for the exit and for the rest of stderr (bounded), so {@link stderrTail} is complete. */
  async waitExit(): Promise<ExitStatus> {
    const status = await this.exited;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#stderrDone,
      new Promise<void>((r) => (timer = setTimeout(r, STDERR_DRAIN_MS))),
    ]);
    clearTimeout(timer);
    return status;
  }

  /**
   * An {@link ExecError} describing how the process ended, with the stderr tail.
   *
   * @example
   * ```ts
   * const status = await proc.waitExit();
   * if (status.code !== 0) throw proc.exitError(status);
   * ```
   */
  exitError(status: ExitStatus, context = ""): ExecError {
    const how = status.signal ? `was killed by ${status.signal}` : `exited with code ${status.code}`;
    return new ExecError(this.commandLine, how + context, status, this.stderrTail());
  }

  /**
   * Ends the process: sends the kill signal, escalates to SIGKILL after the kill timeout, and
   * resolves once it exited. Idempotent.
   */
  stop(): Promise<ExitStatus> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<ExitStatus> {
    if (!this.#hasExited) {
      this.#log.debug("stopping process", { pid: this.pid, signal: this.#killSignal });
      this.#child.kill(this.#killSignal);
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (!this.#hasExited && this.#killSignal !== "SIGKILL" && this.#killTimeoutMs !== undefined) {
      timer = setTimeout(() => {
        this.#log.debug("kill timeout, sending SIGKILL", { pid: this.pid, timeoutMs: this.#killTimeoutMs });
        this.#child.kill("SIGKILL");
      }, this.#killTimeoutMs);
    }
    // Nobody reads stdout any more: cancel it so a blocked writer sees EPIPE instead of hanging.
    this.stdout?.cancel().catch(() => {});
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  #pushLine(line: string): void {
    const text = line.length > MAX_LINE ? line.slice(0, MAX_LINE) + "..." : line;
    if (!text.trim()) return;
    this.#log.debug(text.trimEnd(), { pid: this.pid });
    const cap = this.#ring.length;
    if (this.#ringSize < cap) {
      this.#ring[(this.#ringStart + this.#ringSize) % cap] = text.trimEnd();
      this.#ringSize++;
    } else {
      this.#ring[this.#ringStart] = text.trimEnd();
      this.#ringStart = (this.#ringStart + 1) % cap;
    }
  }

  async #readStderr(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    const reader = stream.getReader();
    let partial = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        partial += decoder.decode(value, { stream: true });
        // ffmpeg ends progress lines with \r, log lines with \n.
        let start = 0;
        for (let i = 0; i < partial.length; i++) {
          const c = partial.charCodeAt(i);
          if (c === 10 || c === 13) {
            if (i > start) this.#pushLine(partial.slice(start, i));
            start = i + 1;
          }
        }
        partial = partial.slice(start);
        if (partial.length > MAX_LINE) {
          this.#pushLine(partial);
          partial = "";
        }
      }
    } catch {
      // The pipe broke with the process; what was read is kept.
    } finally {
      partial += decoder.decode();
      if (partial) this.#pushLine(partial);
      reader.releaseLock();
    }
  }
}
