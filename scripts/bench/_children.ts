/**
 * Child processes of the bench driver: spawned with piped stdio, their stdout read as JSON lines,
 * every one of them killed when the driver exits (normally, on error, or on SIGINT/SIGTERM).
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Repository root (scripts/bench/../..). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

export type Runtime = "node" | "deno" | "bun";

/** The command line that runs a TypeScript file on a runtime (the real binary, no launcher in between). */
export function runtimeCommand(runtime: Runtime, file: string, args: string[]): [string, string[]] {
  switch (runtime) {
    case "node":
      return ["node", ["--import", "tsx", file, ...args]];
    case "deno":
      return [resolve(ROOT, "node_modules/.bin/deno"), ["run", "-A", file, ...args]];
    case "bun":
      return [resolve(ROOT, "node_modules/.bin/bun"), ["run", file, ...args]];
  }
}

/** A spawned child with its stdout as JSON events. */
export class Child {
  readonly proc: ChildProcess;
  readonly name: string;
  readonly events: Record<string, unknown>[] = [];
  stderr = "";
  exited = false;
  #waiters: { event: string; resolve: (e: Record<string, unknown>) => void }[] = [];
  #buf = "";

  constructor(
    name: string,
    command: string,
    args: string[],
    options: { cwd?: string; stdin?: boolean; echoStderr?: boolean } = {},
  ) {
    this.name = name;
    this.proc = spawn(command, args, {
      cwd: options.cwd ?? ROOT,
      stdio: [options.stdin ? "pipe" : "ignore", "pipe", "pipe"],
    });
    live.add(this);
    this.proc.stdout!.setEncoding("utf8");
    this.proc.stdout!.on("data", (text: string) => {
      this.#buf += text;
      let nl: number;
      while ((nl = this.#buf.indexOf("\n")) >= 0) {
        const line = this.#buf.slice(0, nl).trim();
        this.#buf = this.#buf.slice(nl + 1);
        if (!line.startsWith("{")) {
          // Not an event: a runtime's own diagnostics (--trace-gc and the like) go where stderr goes.
          if (options.echoStderr && line) process.stderr.write(`[${name}] ${line}\n`);
          continue;
        }
        try {
          const ev = JSON.parse(line) as Record<string, unknown>;
          this.events.push(ev);
          for (const w of [...this.#waiters]) {
            if (w.event === ev.event || ev.event === "error") {
              this.#waiters.splice(this.#waiters.indexOf(w), 1);
              w.resolve(ev);
            }
          }
        } catch { /* not JSON */ }
      }
    });
    this.proc.stderr!.setEncoding("utf8");
    this.proc.stderr!.on("data", (text: string) => {
      if (options.echoStderr) process.stderr.write(`[${name}] ${text}`);
      this.stderr = (this.stderr + text).slice(-8000);
    });
    this.proc.on("error", (e) => {
      this.stderr += `\nspawn failed: ${e.message}`;
    });
    this.proc.on("exit", () => {
      this.exited = true;
      live.delete(this);
      for (const w of this.#waiters.splice(0)) w.resolve({ event: "exit" });
    });
  }

  get pid(): number {
    return this.proc.pid ?? -1;
  }

  /** The next stdout event named `event` (an earlier one already received counts once). */
  waitFor(event: string, timeoutMs: number): Promise<Record<string, unknown>> {
    const seen = this.events.findIndex((e) => e.event === event);
    if (seen >= 0) return Promise.resolve(this.events.splice(seen, 1)[0]);
    if (this.exited) {
      return Promise.reject(new Error(`${this.name} exited: ${this.stderr.trim().slice(-2000)}`));
    }
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w.resolve !== done);
        reject(
          new Error(
            `${this.name}: no "${event}" within ${timeoutMs} ms. stderr: ${this.stderr.trim().slice(-2000)}`,
          ),
        );
      }, timeoutMs);
      const done = (ev: Record<string, unknown>) => {
        clearTimeout(t);
        const i = this.events.indexOf(ev);
        if (i >= 0) this.events.splice(i, 1);
        if (ev.event === event) resolve(ev);
        else if (ev.event === "exit") {
          reject(new Error(`${this.name} exited: ${this.stderr.trim().slice(-2000)}`));
        } else reject(new Error(`${this.name}: ${String(ev.message ?? JSON.stringify(ev))}`));
      };
      this.#waiters.push({ event, resolve: done });
    });
  }

  send(line: string): void {
    if (!this.exited) this.proc.stdin?.write(line + "\n");
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it exited. */
  async stop(graceMs = 3000): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((r) => this.proc.once("exit", () => r()));
    this.proc.kill("SIGTERM");
    const t = setTimeout(() => this.proc.kill("SIGKILL"), graceMs);
    await done;
    clearTimeout(t);
  }
}

const live = new Set<Child>();

/** Kills every child still running (synchronously: SIGKILL). */
export function killAll(): void {
  for (const c of live) {
    try {
      c.proc.kill("SIGKILL");
    } catch { /* gone */ }
  }
  live.clear();
}

process.on("exit", killAll);
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(sig, () => {
    console.error(`\n${sig}: stopping all bench processes`);
    killAll();
    process.exit(130);
  });
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
