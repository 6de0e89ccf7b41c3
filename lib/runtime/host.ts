/**
 * The process strom runs in: command line, exit, termination signals, standard output and error,
 * and its own resource use. The server and the CLI reach these through here, so that, like the
 * library, they touch `node:*` only inside lib/runtime/ (the `node:process` module is there on
 * Node, Deno and Bun alike).
 *
 * @module
 */
import { realpathSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";

/** The signals that ask the process to end: Ctrl-C and a service manager's stop. */
export type TerminationSignal = "SIGINT" | "SIGTERM";

/**
 * The arguments after the program and script (`strom record -o a.mp4` -> `["record", "-o", "a.mp4"]`).
 *
 * @example
 * ```ts
 * const code = await run(commandLineArgs());
 * ```
 */
export function commandLineArgs(): string[] {
  return process.argv.slice(2);
}

/**
 * Whether the module at `moduleUrl` (its `import.meta.url`) is the script the process was started
 * with. Deno and Bun say so in `import.meta.main`; pass it when there is one.
 *
 * @example
 * ```ts
 * if (isMainModule(import.meta.url, (import.meta as { main?: boolean }).main)) await main();
 * ```
 */
export function isMainModule(moduleUrl: string, metaMain?: boolean): boolean {
  if (typeof metaMain === "boolean") return metaMain;
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}

/**
 * Ends the process now with `code` (open sockets and timers do not keep it alive).
 *
 * @example
 * ```ts
 * exitProcess(await run(commandLineArgs()));
 * ```
 */
export function exitProcess(code: number): never {
  return process.exit(code);
}

/**
 * Calls `handler` on each SIGINT and SIGTERM until the returned function removes it.
 *
 * @example
 * ```ts
 * const off = onTermination((signal) => log.info(`received ${signal}, shutting down`));
 * // when done:
 * off();
 * ```
 */
export function onTermination(handler: (signal: TerminationSignal) => void): () => void {
  const sigint = () => handler("SIGINT");
  const sigterm = () => handler("SIGTERM");
  process.on("SIGINT", sigint);
  process.on("SIGTERM", sigterm);
  return () => {
    process.off("SIGINT", sigint);
    process.off("SIGTERM", sigterm);
  };
}

/**
 * Calls `handler` on each SIGHUP (the service manager's "reload") until the returned function
 * removes it. A no-op where the platform has no SIGHUP (Windows).
 *
 * @example
 * ```ts
 * const off = onReload(() => reloadCertificates());
 * ```
 */
export function onReload(handler: () => void): () => void {
  if (process.platform === "win32") return () => {};
  process.on("SIGHUP", handler);
  return () => {
    process.off("SIGHUP", handler);
  };
}

/**
 * Writes to standard output (text as UTF-8).
 *
 * @example
 * ```ts
 * writeStdout(JSON.stringify(report, null, 2) + "\n");
 * ```
 */
export function writeStdout(data: string | Uint8Array): void {
  process.stdout.write(data);
}

/**
 * Reads standard input to its end as text (at most `maxBytes`; the rest is ignored), e.g. a
 * password piped into `strom passwd`.
 *
 * @example
 * ```ts
 * const password = (await readStdinText()).split("\n")[0];
 * ```
 */
export async function readStdinText(maxBytes = 64 * 1024): Promise<string> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of process.stdin as AsyncIterable<Uint8Array>) {
    chunks.push(chunk);
    total += chunk.length;
    if (total >= maxBytes) break;
  }
  const all = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    all.set(c, offset);
    offset += c.length;
  }
  return new TextDecoder().decode(all.subarray(0, maxBytes));
}

/**
 * Whether standard error is a terminal (progress lines that rewrite themselves only make sense there).
 *
 * @example
 * ```ts
 * const progress = stderrIsTerminal() ? "tty" : "none";
 * ```
 */
export function stderrIsTerminal(): boolean {
  return process.stderr.isTTY === true;
}

/**
 * Writes bytes to standard output and resolves once the runtime took them (a piped JPEG or MP4:
 * the process must not exit before). Rejects when stdout is closed (EPIPE).
 *
 * @example
 * ```ts
 * await writeStdoutAndWait(jpeg);
 * ```
 */
export function writeStdoutAndWait(data: Uint8Array): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    process.stdout.write(data, (error) => (error ? reject(error) : resolve()));
  });
}

/**
 * Writes to standard error (text as UTF-8).
 *
 * @example
 * ```ts
 * writeStderr(`strom: ${error.message}\n`);
 * ```
 */
export function writeStderr(data: string | Uint8Array): void {
  process.stderr.write(data);
}

/**
 * The process's resident memory in bytes.
 *
 * @example
 * ```ts
 * residentMemoryBytes(); // 48234496
 * ```
 */
export function residentMemoryBytes(): number {
  // memoryUsage.rss() is the cheap form (no heap statistics); older runtimes only have the object.
  return typeof process.memoryUsage.rss === "function" ? process.memoryUsage.rss() : process.memoryUsage().rss;
}

/**
 * CPU time the process used so far (user + system), in seconds.
 *
 * @example
 * ```ts
 * cpuSeconds(); // 1.73
 * ```
 */
export function cpuSeconds(): number {
  const { user, system } = process.cpuUsage(); // microseconds
  return (user + system) / 1e6;
}

/**
 * The operating system and CPU architecture strom runs on, as Node names them (`linux`, `darwin`,
 * `win32`, `freebsd`; `x64`, `arm64`, `arm`): what decides which hardware encoders and capture
 * devices ffmpeg may have.
 *
 * @example
 * ```ts
 * const { platform, arch } = hostSystem(); // { platform: "linux", arch: "x64" }
 * ```
 */
export function hostSystem(): { platform: string; arch: string } {
  return { platform: process.platform, arch: process.arch };
}
