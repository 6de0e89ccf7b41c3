/**
 * A `strom serve` child process as the CLI tests see it (node:child_process): wait for its
 * "listening on http://..." log line, and stop it with a signal within a bound.
 *
 * @module
 */
import type { ChildProcess } from "node:child_process";

/**
 * Resolves with the HTTP URL of the first "listening on http://127.0.0.1:PORT" line on stdout or
 * stderr (the log goes to stdout by default, errors to stderr); rejects with everything printed when
 * the child exits first or `timeoutMs` passes. `output()` returns what it printed so far.
 */
export function waitForListening(
  child: ChildProcess,
  timeoutMs = 20_000,
): Promise<{ url: string; output: () => string }> {
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no "listening" line within ${timeoutMs / 1000} s:\n${output}`)),
      timeoutMs,
    );
    const onData = (d: unknown) => {
      output += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (m) (clearTimeout(timer), resolve({ url: m[1], output: () => output }));
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.on("close", (code) => (clearTimeout(timer), reject(new Error(`exited ${code}:\n${output}`))));
  });
}

/** Sends `signal` (through `kill`, default the child itself) and waits up to `timeoutMs` for it to close. */
export async function stopWithin(
  child: ChildProcess,
  timeoutMs: number,
  kill: () => void = () => child.kill("SIGTERM"),
): Promise<"closed" | "timeout"> {
  const closed = child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve("closed" as const)
    : new Promise<"closed">((r) => child.on("close", () => r("closed")));
  kill();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    closed,
    new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), timeoutMs))),
  ]);
  clearTimeout(timer);
  return outcome;
}
