/**
 * Runs the hooks of `hooks:` for stream events, off the media path: an event only queues work
 * (synchronously, no await), at most `max_running` hooks run at once, at most `max_queued` wait and
 * the rest are dropped with a warning. Every run has a timeout: a command is killed (SIGTERM, then
 * SIGKILL), a webhook request aborted. Failures are logged, never thrown.
 *
 * @module
 */
import type { StreamEvent } from "../../lib/core/events.ts";
import type { Logger } from "../../lib/core/log.ts";
import { concatBytes } from "../../lib/core/bytes.ts";
import { redactUrl } from "../../lib/core/errors.ts";
import { quoteSplit } from "../../lib/protocol/exec/quote_split.ts";
import { spawn } from "../../lib/runtime/mod.ts";
import { matchesPattern } from "../access/account.ts";
import type { HookConfig, HooksConfig } from "../config/types.ts";
import { hookEnv, hookPayload } from "./payload.ts";

/** One configured hook, checked and ready to run. */
interface Hook {
  event: StreamEvent["type"];
  /** argv of the command. */
  argv?: string[];
  command?: string;
  url?: string;
  headers: Record<string, string>;
  streams: string[];
  timeoutMs: number;
}

interface Job {
  hook: Hook;
  event: StreamEvent;
}

/** Counters for tests and `/api` status. */
export interface HookStats {
  /** Hook runs started. */
  started: number;
  /** Runs that failed (exit code, HTTP status, spawn or network error, timeout). */
  failed: number;
  /** Runs killed or aborted at their timeout. */
  timedOut: number;
  /** Runs dropped because the queue was full. */
  dropped: number;
  running: number;
  queued: number;
}

/** The events a hook list key stands for: `on_ready` -> `ready`. */
const EVENT_KEYS: Record<string, StreamEvent["type"]> = {
  on_ready: "ready",
  on_not_ready: "not_ready",
  on_read: "read",
  on_unread: "unread",
  on_publish: "publish",
  on_unpublish: "unpublish",
  on_segment_complete: "segment_complete",
  on_source_error: "source_error",
  on_disabled: "disabled",
  on_enabled: "enabled",
  on_alert: "alert",
};

/** How much of a failed command's stderr goes into the log line. */
const STDERR_TAIL = 2048;
/** At most one "dropped" warning per this long (the count is in it). */
const DROP_WARN_MS = 10_000;

/**
 * The hooks of a server.
 *
 * @example
 * ```ts
 * const runner = new HookRunner(config.hooks, log);
 * const off = hub.events.on((e) => runner.handle(e));
 * // ...
 * off();
 * await runner.close();
 * ```
 */
export class HookRunner {
  readonly stats: HookStats = { started: 0, failed: 0, timedOut: 0, dropped: 0, running: 0, queued: 0 };
  readonly #hooks = new Map<StreamEvent["type"], Hook[]>();
  readonly #queue: Job[] = [];
  readonly #maxRunning: number;
  readonly #maxQueued: number;
  readonly #log: Logger;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #abort = new AbortController();
  #drainTimer: ReturnType<typeof setTimeout> | undefined;
  #droppedSinceWarn = 0;
  #lastDropWarn = 0;
  #closed = false;

  constructor(config: HooksConfig, log: Logger) {
    this.#log = log;
    this.#maxRunning = Math.max(1, config.max_running || 4);
    this.#maxQueued = Math.max(0, config.max_queued ?? 256);
    const defaultMs = (config.timeout || 10) * 1000;
    for (const [key, event] of Object.entries(EVENT_KEYS)) {
      const list = (config as unknown as Record<string, HookConfig[] | undefined>)[key] ?? [];
      list.forEach((h, i) => {
        const hook = this.#prepare(h, event, defaultMs, `hooks.${key}[${i}]`);
        if (!hook) return;
        const hooks = this.#hooks.get(event) ?? [];
        hooks.push(hook);
        this.#hooks.set(event, hooks);
      });
    }
  }

  #prepare(h: HookConfig, event: StreamEvent["type"], defaultMs: number, where: string): Hook | undefined {
    if (!h.command && !h.url) {
      this.#log.warn(`${where} has neither command nor url; it does nothing. Add one of them.`);
      return undefined;
    }
    let argv: string[] | undefined;
    if (h.command) {
      try {
        argv = quoteSplit(h.command);
      } catch (error) {
        this.#log.error(`${where}.command cannot be split into arguments: ${(error as Error).message}; fix the quotes`);
        return undefined;
      }
      if (argv.length === 0) argv = undefined;
    }
    if (h.url && !/^https?:\/\//i.test(h.url)) {
      this.#log.error(`${where}.url must be an http:// or https:// URL; the webhook is skipped`, {
        url: redactUrl(h.url),
      });
      if (!argv) return undefined;
    }
    return {
      event,
      argv,
      command: h.command,
      url: h.url && /^https?:\/\//i.test(h.url) ? h.url : undefined,
      headers: h.headers ?? {},
      streams: h.streams ?? [],
      timeoutMs: h.timeout ? h.timeout * 1000 : defaultMs,
    };
  }

  /** Whether any hook is configured (the module does not subscribe otherwise). */
  get empty(): boolean {
    return this.#hooks.size === 0;
  }

  /**
   * Queues the hooks of an event. Synchronous and cheap: called from the stream's own code paths;
   * the hooks start from a timer, never inside the caller.
   */
  handle(event: StreamEvent): void {
    if (this.#closed) return;
    const hooks = this.#hooks.get(event.type);
    if (!hooks) return;
    for (const hook of hooks) {
      if (hook.streams.length > 0 && !matchesPattern(hook.streams, event.stream)) continue;
      // Room: free run slots (taken at the next drain) plus the waiting queue.
      const free = Math.max(0, this.#maxRunning - this.stats.running);
      if (this.#queue.length < free + this.#maxQueued) {
        this.#queue.push({ hook, event });
        this.stats.queued = this.#queue.length;
      } else {
        this.#drop(event);
      }
    }
    this.#scheduleDrain();
  }

  #scheduleDrain(): void {
    if (this.#drainTimer !== undefined || this.#queue.length === 0) return;
    this.#drainTimer = setTimeout(() => {
      this.#drainTimer = undefined;
      this.#drain();
    }, 0);
  }

  #drain(): void {
    while (!this.#closed && this.stats.running < this.#maxRunning && this.#queue.length > 0) {
      this.#start(this.#queue.shift()!);
    }
    this.stats.queued = this.#queue.length;
  }

  #drop(event: StreamEvent): void {
    this.stats.dropped++;
    this.#droppedSinceWarn++;
    const now = Date.now();
    if (now - this.#lastDropWarn < DROP_WARN_MS) return;
    this.#log.warn(
      `hooks queue full (${this.#maxRunning} running, ${this.#maxQueued} waiting): dropped ` +
        `${this.#droppedSinceWarn} hook run(s); raise hooks.max_running/max_queued or make the hooks faster`,
      { event: event.type, stream: event.stream },
    );
    this.#lastDropWarn = now;
    this.#droppedSinceWarn = 0;
  }

  #start(job: Job): void {
    this.stats.running++;
    this.stats.started++;
    const run = this.#run(job).catch((error) => {
      this.stats.failed++;
      this.#log.error("hook failed", { event: job.event.type, stream: job.event.stream, error: String(error) });
    }).finally(() => {
      this.#inFlight.delete(run);
      this.stats.running--;
      this.#drain();
    });
    this.#inFlight.add(run);
  }

  async #run({ hook, event }: Job): Promise<void> {
    const tasks: Promise<void>[] = [];
    if (hook.argv) tasks.push(this.#runCommand(hook, hook.argv, event));
    if (hook.url) tasks.push(this.#callWebhook(hook, hook.url, event));
    await Promise.all(tasks);
  }

  async #runCommand(hook: Hook, argv: string[], event: StreamEvent): Promise<void> {
    const fields = { event: event.type, stream: event.stream, command: argv[0] };
    let child;
    try {
      child = spawn(argv[0], argv.slice(1), { env: hookEnv(event), stdout: "ignore", stderr: "pipe" });
    } catch (error) {
      this.stats.failed++;
      this.#log.error(`hook command could not start: ${(error as Error).message}`, fields);
      return;
    }
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGTERM");
    }, hook.timeoutMs);
    const onClose = () => child.kill("SIGTERM");
    this.#abort.signal.addEventListener("abort", onClose);
    const stderr = readTail(child.stderr);
    try {
      const status = await child.exited;
      // What the command wrote; a grandchild left running may keep the pipe open, so not for long.
      const late = setTimeout(stderr.cancel, 200);
      const tail = (await stderr.text).trim();
      clearTimeout(late);
      if (timedOut) {
        this.stats.timedOut++;
        this.stats.failed++;
        this.#log.warn(
          `hook command killed after its timeout of ${hook.timeoutMs / 1000} s; make it faster, run it in the background, or raise hooks.timeout`,
          fields,
        );
      } else if (status.code !== 0 && !this.#abort.signal.aborted) {
        this.stats.failed++;
        this.#log.warn(
          `hook command failed (${status.code !== null ? `exit code ${status.code}` : `signal ${status.signal}`})`,
          { ...fields, ...(tail ? { stderr: tail } : {}) },
        );
      } else {
        this.#log.debug("hook command done", fields);
      }
    } finally {
      clearTimeout(timer);
      this.#abort.signal.removeEventListener("abort", onClose);
    }
  }

  async #callWebhook(hook: Hook, url: string, event: StreamEvent): Promise<void> {
    const shown = redactUrl(url.replace(/\?.*$/, "?..."));
    const fields = { event: event.type, stream: event.stream, url: shown };
    const signal = AbortSignal.any([AbortSignal.timeout(hook.timeoutMs), this.#abort.signal]);
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": "strom-hooks", ...hook.headers },
        body: JSON.stringify(hookPayload(event)),
        signal,
        redirect: "manual",
      });
      await res.body?.cancel().catch(() => {});
      if (res.status >= 300) {
        this.stats.failed++;
        this.#log.warn(`webhook answered HTTP ${res.status}`, fields);
      } else {
        this.#log.debug("webhook done", fields);
      }
    } catch (error) {
      if (this.#abort.signal.aborted) return;
      this.stats.failed++;
      const e = error as Error;
      if (e.name === "TimeoutError" || signal.aborted) {
        this.stats.timedOut++;
        this.#log.warn(
          `webhook aborted after its timeout of ${hook.timeoutMs / 1000} s; check the receiver or raise hooks.timeout`,
          fields,
        );
      } else {
        const cause = (e.cause as Error | undefined)?.message;
        this.#log.warn(`webhook request failed: ${e.message}${cause ? ` (${cause})` : ""}`, fields);
      }
    }
  }

  /** Settles when nothing runs or waits (tests). */
  async idle(): Promise<void> {
    for (;;) {
      if (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
      else if (this.#queue.length > 0 && !this.#closed) await new Promise((r) => setTimeout(r, 1));
      else return;
    }
  }

  /** Drops what waits, kills running commands and aborts webhooks, and waits for them to end. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#drainTimer);
    this.#drainTimer = undefined;
    this.#queue.length = 0;
    this.stats.queued = 0;
    this.#abort.abort();
    await this.idle();
  }
}

/**
 * Reads a stream keeping only its last bytes, as text. `cancel` stops reading (a grandchild of a
 * killed command may hold the pipe open).
 */
function readTail(stream: ReadableStream<Uint8Array> | undefined): { text: Promise<string>; cancel(): void } {
  if (!stream) return { text: Promise.resolve(""), cancel: () => {} };
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const text = (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        size += value.length;
        while (size - chunks[0].length >= STDERR_TAIL) size -= chunks.shift()!.length;
      }
    } catch { /* cancelled or the child died: what was read is enough */ }
    const all = new TextDecoder().decode(concatBytes(chunks));
    return all.length > STDERR_TAIL ? all.slice(-STDERR_TAIL) : all;
  })();
  return { text, cancel: () => void reader.cancel().catch(() => {}) };
}
