/**
 * Bounded child processes for tests, on every runtime (built on lib/runtime/process.ts): run a tool,
 * collect its output, kill it when it overstays. The one runner behind the ffmpeg/ffprobe helpers
 * (tests/_support/ffmpeg.ts) and the lib unit tests that use real tools as peers.
 *
 * @module
 */
import { concatBytes } from "../../lib/core/bytes.ts";
import { spawn, which } from "../../lib/runtime/process.ts";

/** Rejects with `label` when `promise` does not settle within `ms`. */
export function within<T>(promise: Promise<T>, ms: number, label: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${label}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export { concatBytes };

/** Reads a stream to its end; an absent stream reads as empty. Bound it with {@link within} or a kill. */
export async function readAll(stream: ReadableStream<Uint8Array> | undefined): Promise<Uint8Array> {
  if (!stream) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    total += value.length;
  }
  return concatBytes(chunks, total);
}

/** Whether a tool is on PATH (tests that need it are skipped otherwise). */
export async function hasTool(name: string): Promise<boolean> {
  return (await which(name)) !== undefined;
}

/** Result of a finished process. */
export interface RunResult {
  code: number | null;
  /** The signal that ended the process, if one did. */
  signal: string | null;
  stdout: Uint8Array;
  stderr: string;
  /** The process was killed because it ran longer than `timeoutMs`. */
  timedOut: boolean;
}

/** Where and how to run a command (see lib/runtime/process.ts `SpawnOptions`). */
export interface RunOptions {
  cwd?: string;
  /** Variables added to (overriding) the parent's environment. */
  env?: Record<string, string>;
}

/**
 * Runs a command with `input` (if any) on stdin, collects stdout and stderr, and kills it (SIGKILL)
 * after `timeoutMs`. Never rejects on a non-zero exit; rejects when the command cannot be started.
 */
export async function run(
  cmd: string,
  args: string[],
  timeoutMs = 20_000,
  input?: Uint8Array,
  options: RunOptions = {},
): Promise<RunResult> {
  const child = spawn(cmd, args, {
    cwd: options.cwd,
    env: options.env,
    stdin: input ? "pipe" : "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeoutMs,
  });
  try {
    const out = readAll(child.stdout);
    const err = readAll(child.stderr);
    if (input && child.stdin) {
      const w = child.stdin.getWriter();
      try {
        await w.write(input);
        await w.close();
      } catch { /* the tool may exit before reading everything */ }
    }
    const [stdout, stderr, status] = await Promise.all([out, err, child.exited]);
    return { code: status.code, signal: status.signal, stdout, stderr: new TextDecoder().decode(stderr), timedOut: !!status.timedOut };
  } finally {
    child.kill("SIGKILL");
  }
}

/** Result of {@link runText}: a process that finished in time, its output as text. */
export interface TextRunResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to completion with text output (a CLI as users run it); rejects, after killing it,
 * when it takes longer than `timeoutMs`. The error names `label` (default: the command line).
 */
export async function runText(
  cmd: string,
  args: string[],
  o: RunOptions & { timeoutMs?: number; label?: string } = {},
): Promise<TextRunResult> {
  const timeoutMs = o.timeoutMs ?? 20_000;
  const res = await run(cmd, args, timeoutMs, undefined, { cwd: o.cwd, env: o.env });
  if (res.timedOut) {
    const label = o.label ?? `${cmd} ${args.join(" ")}`;
    throw new Error(`${label} did not finish within ${timeoutMs} ms\nstderr: ${res.stderr}`);
  }
  return { code: res.code, signal: res.signal, stdout: new TextDecoder().decode(res.stdout), stderr: res.stderr };
}
