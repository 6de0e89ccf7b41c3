/**
 * Child processes (ffmpeg, exec sources) on `node:child_process`, with stdio as Web Streams.
 *
 * Design of failure reporting:
 * - A command that cannot be started (not on PATH, not executable, missing working directory)
 *   makes {@link spawn} throw a {@link SpawnError} synchronously, with a message that says how to
 *   fix it. Runtimes report this asynchronously; spawn detects it from the missing pid and
 *   classifies it with a PATH lookup, so callers need no second error channel.
 * - Once started, {@link ChildProcess.exited} only ever resolves, with the exit code or signal.
 *
 * Children never outlive the parent by accident: one `process.on("exit")` handler sends SIGTERM to
 * every live child and, on POSIX, leaves a detached `sh` that SIGKILLs the survivors 2 s later.
 * (The 'exit' event does not run when the parent dies from an unhandled signal, so servers should
 * turn SIGINT/SIGTERM into `process.exit()`; the CLI does.)
 *
 * @module
 */
import * as cp from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import { access, realpath, stat } from "node:fs/promises";
import { basename, delimiter, isAbsolute, resolve as resolvePath } from "node:path";
import process from "node:process";
import { setTimeout as setNodeTimeout } from "node:timers";
import { NodeReadableAdapter } from "./_node_readable.ts";
import { toWebWritable } from "./_node_writable.ts";

/** Why a command could not be started. */
export type SpawnErrorCode = "NotFound" | "PermissionDenied" | "Other";

/**
 * A command could not be started.
 *
 * @example
 * ```ts
 * try {
 *   spawn("ffmpeg", ["-version"]);
 * } catch (e) {
 *   if (e instanceof SpawnError && e.code === "NotFound") console.error(e.message);
 *   // Cannot start ffmpeg: not found on PATH. Install it (e.g. "apt-get install ffmpeg") or give its absolute path.
 * }
 * ```
 */
export class SpawnError extends Error {
  override name = "SpawnError";
  /** The command as given to spawn. */
  readonly command: string;
  readonly code: SpawnErrorCode;
  constructor(command: string, code: SpawnErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.command = command;
    this.code = code;
  }
}

/** How a child ended: `code` when it exited, `signal` when a signal killed it. */
export interface ExitStatus {
  code: number | null;
  signal: string | null;
  /** Set when the child was killed because it outlived {@link SpawnOptions.timeoutMs}. */
  timedOut?: true;
}

/** Signals {@link ChildProcess.kill} sends. */
export type KillSignal = "SIGTERM" | "SIGKILL" | "SIGINT";

/** A running child process. */
export interface ChildProcess {
  readonly pid: number;
  /** Present when spawned with `stdin: "pipe"`. Closing it sends EOF. */
  readonly stdin: WritableStream<Uint8Array> | undefined;
  /** Present when spawned with `stdout: "pipe"`. Read or cancel it, or the child blocks when the pipe fills. */
  readonly stdout: ReadableStream<Uint8Array> | undefined;
  /** Present when spawned with `stderr: "pipe"`. Read or cancel it, or the child blocks when the pipe fills. */
  readonly stderr: ReadableStream<Uint8Array> | undefined;
  /** Resolves when the child exited. Never rejects. */
  readonly exited: Promise<ExitStatus>;
  /**
   * Sends `signal` (default SIGTERM). After SIGTERM or SIGINT, a child still running 2 s later gets
   * SIGKILL. No-op once exited.
   */
  kill(signal?: KillSignal): void;
  /** `kill()` and wait for the exit (at most about 2 s). */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Options of {@link spawn}. */
export interface SpawnOptions {
  cwd?: string;
  /** Variables added to (overriding) the parent's environment. */
  env?: Record<string, string>;
  /** Default `"ignore"`. */
  stdin?: "pipe" | "ignore";
  /** Default `"pipe"`. */
  stdout?: "pipe" | "ignore" | "inherit";
  /** Default `"inherit"` (the child's log lines go to our stderr). */
  stderr?: "pipe" | "ignore" | "inherit";
  /**
   * A child still running this many milliseconds after the start gets SIGKILL, and
   * {@link ChildProcess.exited} reports `timedOut: true`. Default: no limit.
   */
  timeoutMs?: number;
}

const KILL_GRACE_MS = 2_000;
const isWindows = process.platform === "win32";
const ignore = () => {};

// Every live child, for the parent-exit handler. Children leave the set when they exit.
const live = new Set<cp.ChildProcess>();
let exitHookInstalled = false;

function killAllOnExit(): void {
  const pids: number[] = [];
  for (const child of live) {
    if (child.pid === undefined) continue;
    try {
      process.kill(child.pid, "SIGTERM");
      pids.push(child.pid);
    } catch { /* already gone */ }
  }
  live.clear();
  // The 'exit' handler cannot wait, so a detached shell delivers the SIGKILL escalation.
  if (pids.length && !isWindows) {
    try {
      const reaper = cp.spawn("/bin/sh", [
        "-c",
        `sleep ${KILL_GRACE_MS / 1000}; kill -9 ${pids.join(" ")} 2>/dev/null`,
      ], {
        detached: true,
        stdio: "ignore",
      });
      reaper.on("error", ignore);
      reaper.unref();
    } catch { /* best effort */ }
  }
}

class Child implements ChildProcess {
  readonly pid: number;
  readonly stdin: WritableStream<Uint8Array> | undefined;
  readonly stdout: ReadableStream<Uint8Array> | undefined;
  readonly stderr: ReadableStream<Uint8Array> | undefined;
  readonly exited: Promise<ExitStatus>;
  #hasExited = false;
  #killTimer: ReturnType<typeof setNodeTimeout> | undefined;
  #deadline: ReturnType<typeof setNodeTimeout> | undefined;
  #timedOut = false;

  constructor(child: cp.ChildProcess, command: string, timeoutMs: number | undefined) {
    this.pid = child.pid as number;
    const mapError = (error: unknown) => error;
    const label = basename(command);
    this.stdin = child.stdin
      ? toWebWritable(
        child.stdin,
        (error) => new Error(`Cannot write to ${label} stdin: ${describe(error)}`, { cause: error }),
      )
      : undefined;
    const stdout = child.stdout;
    this.stdout = stdout
      ? new NodeReadableAdapter(stdout, mapError, () => stdout.destroy()).stream
      : undefined;
    const stderr = child.stderr;
    this.stderr = stderr
      ? new NodeReadableAdapter(stderr, mapError, () => stderr.destroy()).stream
      : undefined;
    // Later 'error' events (a failed kill) must not be uncaught; exit is reported by 'exit'.
    child.on("error", ignore);
    this.exited = new Promise<ExitStatus>((resolve) => {
      child.once("exit", (code, signal) => {
        this.#hasExited = true;
        live.delete(child);
        if (this.#killTimer) clearTimeout(this.#killTimer);
        if (this.#deadline) clearTimeout(this.#deadline);
        resolve(this.#timedOut ? { code, signal, timedOut: true } : { code, signal });
      });
    });
    live.add(child);
    if (timeoutMs !== undefined) {
      this.#deadline = setNodeTimeout(() => {
        this.#timedOut = true;
        this.#signal("SIGKILL");
      }, timeoutMs);
      this.#deadline.unref();
    }
  }

  kill(signal: KillSignal = "SIGTERM"): void {
    if (this.#hasExited) return;
    this.#signal(signal);
    if (signal !== "SIGKILL" && !this.#killTimer) {
      this.#killTimer = setNodeTimeout(() => this.#signal("SIGKILL"), KILL_GRACE_MS);
      this.#killTimer.unref();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.kill();
    await this.exited;
  }

  // process.kill rather than child.kill: Deno's ChildProcess ignores every kill after the first,
  // which would swallow the SIGKILL escalation.
  #signal(signal: KillSignal): void {
    if (this.#hasExited) return;
    try {
      process.kill(this.pid, signal);
    } catch { /* exited meanwhile */ }
  }
}

/**
 * Starts a child process. Throws {@link SpawnError} when the command cannot be started.
 *
 * @example
 * ```ts
 * await using ff = spawn("ffmpeg", ["-i", "rtsp://cam/1", "-c", "copy", "-f", "mpegts", "-"]);
 * for await (const chunk of ff.stdout!) parser.push(chunk);
 * console.log(await ff.exited); // { code: 0, signal: null }
 * ```
 */
export function spawn(command: string, args: string[], o: SpawnOptions = {}): ChildProcess {
  const env = o.env ? { ...process.env, ...o.env } : undefined;
  let child: cp.ChildProcess;
  try {
    child = cp.spawn(command, args, {
      cwd: o.cwd,
      env,
      stdio: [o.stdin ?? "ignore", o.stdout ?? "pipe", o.stderr ?? "inherit"],
      windowsHide: true,
    });
  } catch (error) {
    throw classify(command, o.cwd, env?.PATH ?? process.env.PATH, error);
  }
  if (child.pid === undefined) {
    // The runtime reports the failure as an 'error' event on the next tick; swallow it and
    // throw a classified error now instead.
    child.on("error", ignore);
    child.stdin?.destroy();
    child.stdout?.destroy();
    child.stderr?.destroy();
    throw classify(command, o.cwd, env?.PATH ?? process.env.PATH, undefined);
  }
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on("exit", killAllOnExit);
  }
  return new Child(child, command, o.timeoutMs);
}

/**
 * Finds a command on PATH. Paths (absolute, or relative with a slash) are checked directly.
 * Returns the absolute path of an executable file, or `undefined`.
 *
 * @example
 * ```ts
 * const ffmpeg = await which("ffmpeg"); // "/usr/bin/ffmpeg" or undefined
 * ```
 */
export async function which(command: string): Promise<string | undefined> {
  for (const candidate of candidates(command, process.env.PATH, undefined)) {
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/**
 * The real path of the executable a command names (PATH lookup, then symlinks resolved), or
 * `undefined` when there is none. Used to compare commands with an allow-list.
 *
 * @example
 * ```ts
 * await resolveExecutable("ffmpeg"); // "/usr/bin/ffmpeg"
 * ```
 */
export async function resolveExecutable(command: string): Promise<string | undefined> {
  const found = await which(command);
  if (!found) return undefined;
  try {
    return await realpath(found);
  } catch {
    return found;
  }
}

function hasSlash(command: string): boolean {
  return command.includes("/") || (isWindows && command.includes("\\"));
}

// Files the runtime would try, in order.
function candidates(command: string, pathVar: string | undefined, cwd: string | undefined): string[] {
  if (!command) return [];
  const exts = isWindows ? ["", ...(process.env.PATHEXT ?? ".EXE;.CMD;.BAT;.COM").split(";")] : [""];
  if (hasSlash(command)) {
    const full = isAbsolute(command) ? command : resolvePath(cwd ?? process.cwd(), command);
    return exts.map((e) => full + e);
  }
  const out: string[] = [];
  for (const dir of (pathVar ?? "").split(delimiter)) {
    if (!dir) continue;
    for (const e of exts) out.push(resolvePath(dir, command + e));
  }
  return out;
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    if (!(await stat(path)).isFile()) return false;
    if (!isWindows) await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function existsSync(path: string): "file" | "dir" | undefined {
  try {
    const s = statSync(path);
    return s.isFile() ? "file" : s.isDirectory() ? "dir" : undefined;
  } catch {
    return undefined;
  }
}

function isExecutableSync(path: string): boolean {
  if (existsSync(path) !== "file") return false;
  if (isWindows) return true;
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

// Explains a failed start; only called on the error path, so the sync stat calls cost nothing normally.
function classify(
  command: string,
  cwd: string | undefined,
  pathVar: string | undefined,
  cause: unknown,
): SpawnError {
  const name = basename(command);
  if (cwd !== undefined && existsSync(cwd) !== "dir") {
    return new SpawnError(
      command,
      "NotFound",
      `Cannot start ${command}: working directory "${cwd}" does not exist.`,
      {
        cause,
      },
    );
  }
  const files = candidates(command, pathVar, cwd);
  if (files.some(isExecutableSync)) {
    return new SpawnError(
      command,
      "Other",
      `Cannot start ${command}: ${cause ? describe(cause) : "the runtime refused to spawn it"}.`,
      {
        cause,
      },
    );
  }
  const present = files.find((f) => existsSync(f) !== undefined);
  if (present) {
    return new SpawnError(
      command,
      "PermissionDenied",
      `Cannot start ${command}: ${present} is not an executable file. Make it executable (chmod +x ${present}) or use another path.`,
      { cause },
    );
  }
  if (hasSlash(command)) {
    return new SpawnError(command, "NotFound", `Cannot start ${command}: no such file. Check the path.`, {
      cause,
    });
  }
  return new SpawnError(
    command,
    "NotFound",
    `Cannot start ${command}: not found on PATH. Install it (e.g. "apt-get install ${name}") or give its absolute path.`,
    { cause },
  );
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
