/**
 * `echo:` sources (go2rtc's `internal/echo`): run a command; what it prints on stdout (trimmed)
 * is the real source URL, which is then dialed through the registry like any other.
 *
 * ```yaml
 * streams:
 *   cam: echo:/usr/local/bin/cam-url --id 3          # prints e.g. rtsp://10.0.0.5/stream1?token=...
 * ```
 *
 * The command obeys `exec.allow_paths` (go2rtc had a separate `echo.allow_paths`), runs at most
 * {@link ECHO_TIMEOUT_MS}, and may print at most {@link ECHO_MAX_OUTPUT} bytes. The API refuses
 * `echo:` sources (server/source_policy.ts).
 *
 * @module
 */
import { redactUrl, SourceError } from "../../core/errors.ts";
import { type Logger, silentLogger } from "../../core/log.ts";
import { registerRedirect } from "../../core/registry.ts";
import { checkAllowedExecutable } from "../exec/allow_paths.ts";
import { ExecError, ExecProcess } from "../exec/process.ts";
import { quoteSplit } from "../exec/quote_split.ts";

/** How long the command may run. */
export const ECHO_TIMEOUT_MS = 30_000;
/** The most stdout kept; a URL is short. */
export const ECHO_MAX_OUTPUT = 64 * 1024;

/** Options of {@link resolveEcho}. */
export interface EchoOptions {
  /** `exec.allow_paths`: when non-empty, only these executables run. */
  allowPaths?: readonly string[];
  log?: Logger;
  /** Default {@link ECHO_TIMEOUT_MS}. */
  timeoutMs?: number;
}

/**
 * Runs an `echo:` URL's command and returns what it printed, trimmed.
 *
 * @throws {ExecNotAllowedError} when `exec.allow_paths` does not list the command; {ExecError} when
 *   it fails or times out; {SourceError} when it prints nothing or too much.
 * @example
 * ```ts
 * await resolveEcho("echo:echo rtsp://10.0.0.5/1"); // "rtsp://10.0.0.5/1"
 * ```
 */
export async function resolveEcho(url: string, options: EchoOptions = {}): Promise<string> {
  const words = quoteSplit(url.replace(/^echo:/i, ""));
  if (!words.length) throw new SourceError(url, "no command; write echo:<command> <args>");
  await checkAllowedExecutable(words[0], options.allowPaths ?? []);
  const log = (options.log ?? silentLogger).child({ source: "echo" });
  const proc = ExecProcess.spawn(words[0], words.slice(1), { log });
  const timeoutMs = options.timeoutMs ?? ECHO_TIMEOUT_MS;
  const chunks: Uint8Array[] = [];
  let total = 0;
  let tooLong = false;
  const reader = proc.stdout!.getReader();
  const reading = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      total += value.length;
      if (total > ECHO_MAX_OUTPUT) {
        tooLong = true;
        return;
      }
      chunks.push(value);
    }
  })().catch(() => {});
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = await Promise.race([
    reading.then(() => false),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs))),
  ]);
  clearTimeout(timer);
  if (timedOut || tooLong) await proc.stop();
  const status = await proc.waitExit();
  if (timedOut) throw new ExecError(proc.commandLine, `did not finish within ${timeoutMs} ms`, status, proc.stderrTail());
  if (tooLong) throw new SourceError(url, `the command printed more than ${ECHO_MAX_OUTPUT} bytes; it should print one source URL`);
  if (status.code !== 0) throw proc.exitError(status);
  const bytes = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    bytes.set(c, o);
    o += c.length;
  }
  const out = new TextDecoder().decode(bytes).trim();
  if (!out) throw new SourceError(url, "the command printed nothing; it should print the source URL to dial");
  log.debug("echo resolved", { url: redactUrl(out) });
  return out;
}

/**
 * Registers `echo:` as a redirect (the command runs on each dial). `allowPaths` is read on each
 * dial. Nothing is registered at import time.
 *
 * @example
 * ```ts
 * registerEchoSource({ log, allowPaths: () => config.exec.allow_paths });
 * ```
 */
export function registerEchoSource(options: { log?: Logger; allowPaths?: () => readonly string[] } = {}): void {
  registerRedirect("echo", (url) => resolveEcho(url, { allowPaths: options.allowPaths?.(), log: options.log }));
}
