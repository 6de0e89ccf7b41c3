/**
 * Alert evaluation for `monitoring.alerts`: at each check, reads the process and server numbers once,
 * measures each alert's condition, and fires an alert whose condition has held for its `duration`
 * (once, until it clears; then it is resolved and may fire again). Time comes from an injected clock
 * and numbers from an injected reader, so the rules are tested without waiting.
 *
 * @module
 */
import type { AlertConfig } from "../config/types.ts";
import { type AlertCondition, holds, parseAlertCondition } from "./condition.ts";

/** What one check reads. */
export interface AlertReading {
  /** The process's user + system CPU seconds so far. */
  cpuSeconds: number;
  /** Resident memory, bytes. */
  rssBytes: number;
  /** Streams that should run and do not (as `/api/health`'s `streams_down`). */
  streamsDown: number;
  /** Open client connections. */
  connections: number;
}

/**
 * CPU use as percent of one core (as `top`: two busy cores are 200), to a tenth: `cpuSeconds` used
 * over `ms` of wall time.
 *
 * @example
 * ```ts
 * cpuPercent(4.5, 5000); // 90
 * ```
 */
export function cpuPercent(cpuSeconds: number, ms: number): number {
  return Math.round((cpuSeconds * 1000 / ms) * 1000) / 10;
}

/** An alert's state as `/api/health` and the metrics show it. */
export interface AlertStatus {
  name: string;
  condition: string;
  action: AlertConfig["action"];
  firing: boolean;
  /** When it fired (RFC 3339), while firing. */
  since?: string;
  /** The last measured value (percent, bytes or a count); absent until there is one. */
  value?: number;
}

/** Options of {@link AlertEngine}. */
export interface AlertEngineOptions {
  read: () => AlertReading;
  /** Milliseconds; default `Date.now`. */
  now?: () => number;
  onFire: (status: AlertStatus) => void;
  onResolve: (status: AlertStatus) => void;
}

/** Two alerts share a name (their metrics series and hook events would be mixed up). */
export class DuplicateAlertError extends Error {
  override name = "DuplicateAlertError";
  readonly alert: string;
  constructor(alert: string) {
    super(`monitoring.alerts has two alerts named "${alert}": give each alert its own name`);
    this.alert = alert;
  }
}

interface Tracked {
  config: AlertConfig;
  condition: AlertCondition;
  pendingSince?: number;
  firedAt?: number;
  value?: number;
}

/**
 * Evaluates alerts; call {@link AlertEngine.check} on a timer.
 *
 * @example
 * ```ts
 * const engine = new AlertEngine([{ name: "cpu", condition: "cpu_percent > 80", duration: 300, action: "notify" }], {
 *   read: () => ({ cpuSeconds: cpuSeconds(), rssBytes: residentMemoryBytes(), streamsDown: 0, connections: 0 }),
 *   onFire: (a) => log.warn("alert", a), onResolve: (a) => log.info("alert resolved", a),
 * });
 * setInterval(() => engine.check(), 5000);
 * ```
 */
export class AlertEngine {
  readonly #alerts: Tracked[];
  readonly #o: AlertEngineOptions;
  readonly #now: () => number;
  /** Resident memory over the longest `memory_growth` window (plus one older sample). */
  readonly #rssHistory: { t: number; rss: number }[] = [];
  readonly #keepMs: number;
  #lastCpu: { t: number; seconds: number } | undefined;

  /**
   * Throws an `AlertConditionError` for a condition that does not read (the config check catches
   * these first), a {@link DuplicateAlertError} for a name used twice.
   */
  constructor(alerts: readonly AlertConfig[], options: AlertEngineOptions) {
    const names = new Set<string>();
    for (const a of alerts) {
      if (names.has(a.name)) throw new DuplicateAlertError(a.name);
      names.add(a.name);
    }
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#alerts = alerts.map((config) => ({ config, condition: parseAlertCondition(config.condition) }));
    this.#keepMs = Math.max(0, ...this.#alerts.map((a) => a.condition.perMs ?? 0));
  }

  /** Reads the numbers once and updates every alert. */
  check(): void {
    const now = this.#now();
    const r = this.#o.read();
    let cpu: number | undefined;
    if (this.#lastCpu && now > this.#lastCpu.t) {
      cpu = cpuPercent(r.cpuSeconds - this.#lastCpu.seconds, now - this.#lastCpu.t);
    }
    this.#lastCpu = { t: now, seconds: r.cpuSeconds };
    if (this.#keepMs > 0) {
      this.#rssHistory.push({ t: now, rss: r.rssBytes });
      // Keep the newest sample at least keepMs old, drop the ones before it.
      while (this.#rssHistory.length > 1 && now - this.#rssHistory[1].t >= this.#keepMs) {
        this.#rssHistory.shift();
      }
    }
    for (const a of this.#alerts) {
      const value = this.#measure(a.condition, r, cpu, now);
      a.value = value;
      if (value !== undefined && holds(a.condition, value)) {
        a.pendingSince ??= now;
        if (a.firedAt === undefined && now - a.pendingSince >= a.config.duration * 1000) {
          a.firedAt = now;
          this.#o.onFire(this.#status(a));
        }
      } else {
        a.pendingSince = undefined;
        if (a.firedAt !== undefined) {
          a.firedAt = undefined;
          this.#o.onResolve(this.#status(a));
        }
      }
    }
  }

  #measure(
    c: AlertCondition,
    r: AlertReading,
    cpu: number | undefined,
    now: number,
  ): number | undefined {
    switch (c.measure) {
      case "cpu_percent":
        return cpu;
      case "memory":
        return r.rssBytes;
      case "memory_growth": {
        // The newest sample at least `per` old; none yet means the window has not passed.
        let base: number | undefined;
        for (const s of this.#rssHistory) {
          if (now - s.t >= c.perMs!) base = s.rss;
          else break;
        }
        return base === undefined ? undefined : r.rssBytes - base;
      }
      case "streams_down":
        return r.streamsDown;
      case "connections":
        return r.connections;
    }
  }

  #status(a: Tracked): AlertStatus {
    return {
      name: a.config.name,
      condition: a.config.condition,
      action: a.config.action,
      firing: a.firedAt !== undefined,
      ...(a.firedAt !== undefined ? { since: new Date(a.firedAt).toISOString() } : {}),
      ...(a.value !== undefined ? { value: a.value } : {}),
    };
  }

  /** Every alert's state, in config order. */
  statuses(): AlertStatus[] {
    return this.#alerts.map((a) => this.#status(a));
  }
}

/**
 * Where `/api/health` and the metrics find the running alerts: the monitoring module attaches its
 * engine, the readers ask. Empty when monitoring is off.
 *
 * @example
 * ```ts
 * const board = new AlertBoard();
 * const detach = board.attach(() => engine.statuses());
 * board.statuses(); // [{ name: "cpu", firing: false, ... }]
 * detach();
 * ```
 */
export class AlertBoard {
  #source: (() => AlertStatus[]) | undefined;

  /** Makes `source` the alerts shown; returns the function that detaches it. */
  attach(source: () => AlertStatus[]): () => void {
    this.#source = source;
    return () => {
      if (this.#source === source) this.#source = undefined;
    };
  }

  /** The attached alerts' states; empty without an engine. */
  statuses(): AlertStatus[] {
    return this.#source?.() ?? [];
  }
}
