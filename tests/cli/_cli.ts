/**
 * Runs the `strom` CLI as users do, through the npm bin entry (`node cli/bin.mjs`), bounded in time.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { runText, type TextRunResult } from "../_support/process.ts";

export const root = resolve(fileURLToPath(new URL("../..", import.meta.url)));
export const bin = join(root, "cli", "bin.mjs");

/** A finished CLI run. */
export type CliResult = TextRunResult;

/** Runs `strom ...args` to completion; rejects when it takes longer than `timeoutMs` (after killing it). */
export function strom(
  args: string[],
  timeoutMs = 15_000,
  env: Record<string, string> = {},
): Promise<CliResult> {
  return runText("node", [bin, ...args], {
    cwd: root,
    env: { NO_COLOR: "1", ...env },
    timeoutMs,
    label: `strom ${args.join(" ")}`,
  });
}

/** A CLI process left running (relay, record until Ctrl-C). */
export interface RunningCli {
  child: ChildProcess;
  /** stdout + stderr so far. */
  output(): string;
  /** Resolves with the first match of `re` in the output; rejects after `timeoutMs` or on exit. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Resolves when the process exits (kills it with SIGKILL after `timeoutMs`). */
  exited(timeoutMs?: number): Promise<{ code: number | null; signal: string | null }>;
  /** SIGKILL if still running. */
  kill(): void;
}

/** Starts `strom ...args` and leaves it running. */
export function startStrom(args: string[]): RunningCli {
  const child = spawn("node", [bin, ...args], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  let out = "";
  let exit: { code: number | null; signal: string | null } | undefined;
  const listeners = new Set<() => void>();
  const notify = () => listeners.forEach((fn) => fn());
  child.stdout!.on("data", (d) => ((out += d), notify()));
  child.stderr!.on("data", (d) => ((out += d), notify()));
  child.on("close", (code, signal) => ((exit = { code, signal }), notify()));
  const wait = <T>(check: () => T | undefined, timeoutMs: number, what: string) =>
    new Promise<T>((resolvePromise, reject) => {
      const tryNow = () => {
        const v = check();
        if (v !== undefined) {
          done();
          resolvePromise(v);
        } else if (exit && what !== "exit") {
          done();
          reject(new Error(`strom exited (${exit.code}/${exit.signal}) before ${what}:\n${out}`));
        }
      };
      const timer = setTimeout(
        () => (done(), reject(new Error(`no ${what} within ${timeoutMs} ms:\n${out}`))),
        timeoutMs,
      );
      const done = () => (clearTimeout(timer), listeners.delete(tryNow));
      listeners.add(tryNow);
      tryNow();
    });
  return {
    child,
    output: () => out,
    waitFor: (re, timeoutMs = 10_000) => wait(() => re.exec(out) ?? undefined, timeoutMs, String(re)),
    exited: async (timeoutMs = 10_000) => {
      try {
        return await wait(() => exit, timeoutMs, "exit");
      } catch (error) {
        child.kill("SIGKILL");
        throw error;
      }
    },
    kill: () => {
      if (exit === undefined) child.kill("SIGKILL");
    },
  };
}
