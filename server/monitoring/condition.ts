/**
 * The `condition` of a `monitoring.alerts` entry, in the seed article's words:
 * `<measure> <op> <threshold>[unit] [per <window>]`, e.g. `cpu_percent > 80`,
 * `memory > 1GB`, `memory_growth > 100MB per 1h`, `streams_down > 0`.
 *
 * | measure | what | unit |
 * | --- | --- | --- |
 * | `cpu_percent` | the process's CPU since the last sample, % of one core (as `top`) | `%` optional |
 * | `memory` (`memory_usage`, `rss`) | resident memory | bytes: `512MB`, `1.5GiB` |
 * | `memory_growth` | resident memory now minus `per` ago (needs `per`) | bytes |
 * | `streams_down` | streams that should run and do not (as `/api/health`) | count |
 * | `connections` (`connection_count`) | open client connections, every protocol | count |
 *
 * @module
 */
import { parseBytes, parseDuration } from "../config/units.ts";

/** What an alert measures. */
export type AlertMeasure = "cpu_percent" | "memory" | "memory_growth" | "streams_down" | "connections";

/** A comparison. */
export type AlertOp = ">" | ">=" | "<" | "<=";

/** A parsed alert condition. */
export interface AlertCondition {
  measure: AlertMeasure;
  op: AlertOp;
  /** In the measure's unit: percent, bytes or a count. */
  threshold: number;
  /** `memory_growth` only: the window in ms. */
  perMs?: number;
}

const ALIASES: Record<string, AlertMeasure> = {
  cpu_percent: "cpu_percent",
  cpu: "cpu_percent",
  cpu_usage: "cpu_percent",
  memory: "memory",
  memory_usage: "memory",
  rss: "memory",
  memory_growth: "memory_growth",
  streams_down: "streams_down",
  connections: "connections",
  connection_count: "connections",
};

/** Why a condition cannot be read; `reason` says what to write instead. */
export class AlertConditionError extends Error {
  override name = "AlertConditionError";
  readonly condition: string;
  readonly reason: string;
  constructor(condition: string, reason: string) {
    super(`cannot read the alert condition "${condition}": ${reason}`);
    this.condition = condition;
    this.reason = reason;
  }
}

const SHAPE = /^\s*([a-z_]+)\s*(>=|<=|>|<)\s*([0-9]+(?:\.[0-9]+)?)\s*([a-z%]*)\s*(?:per\s+(\S+))?\s*$/i;

/**
 * Reads a condition; throws {@link AlertConditionError} naming what is wrong.
 *
 * @example
 * ```ts
 * parseAlertCondition("memory_growth > 100MB per 1h");
 * // { measure: "memory_growth", op: ">", threshold: 100000000, perMs: 3600000 }
 * ```
 */
export function parseAlertCondition(text: string): AlertCondition {
  const m = SHAPE.exec(text);
  if (!m) {
    throw new AlertConditionError(
      text,
      'write "<measure> <op> <number>[unit] [per <duration>]", e.g. "cpu_percent > 80" or "memory_growth > 100MB per 1h"',
    );
  }
  const [, name, op, number, unit, per] = m;
  const measure = ALIASES[name.toLowerCase()];
  if (!measure) {
    throw new AlertConditionError(
      text,
      `"${name}" is not a measure; use one of ${[...new Set(Object.values(ALIASES))].join(", ")}`,
    );
  }
  let threshold: number;
  if (measure === "memory" || measure === "memory_growth") {
    const bytes = parseBytes(`${number}${unit}`);
    if (bytes === undefined) {
      throw new AlertConditionError(text, `"${number}${unit}" is not a size; write e.g. 512MB or 1GiB`);
    }
    threshold = bytes;
  } else {
    const allowed = measure === "cpu_percent" ? ["", "%"] : [""];
    if (!allowed.includes(unit)) {
      throw new AlertConditionError(
        text,
        `${measure} takes a plain number${measure === "cpu_percent" ? " (or with %)" : ""}, not "${unit}"`,
      );
    }
    threshold = Number(number);
  }
  if (measure === "memory_growth") {
    const seconds = per === undefined ? undefined : parseDuration(per);
    if (!seconds) {
      throw new AlertConditionError(text, 'memory_growth needs a window: "memory_growth > 100MB per 1h"');
    }
    return { measure, op: op as AlertOp, threshold, perMs: seconds * 1000 };
  }
  if (per !== undefined) throw new AlertConditionError(text, `"per ${per}" only goes with memory_growth`);
  return { measure, op: op as AlertOp, threshold };
}

/**
 * Whether `value` meets the condition's comparison.
 *
 * @example
 * ```ts
 * holds({ measure: "cpu_percent", op: ">", threshold: 80 }, 93); // true
 * ```
 */
export function holds(condition: AlertCondition, value: number): boolean {
  switch (condition.op) {
    case ">":
      return value > condition.threshold;
    case ">=":
      return value >= condition.threshold;
    case "<":
      return value < condition.threshold;
    case "<=":
      return value <= condition.threshold;
  }
}

/**
 * What is wrong with a condition, for the config check; undefined when it reads.
 *
 * @example
 * ```ts
 * alertConditionProblem("cpu > lots"); // 'a condition like "cpu_percent > 80" ...'
 * ```
 */
export function alertConditionProblem(text: string): string | undefined {
  try {
    parseAlertCondition(text);
    return undefined;
  } catch (error) {
    const reason = error instanceof AlertConditionError ? error.reason : String(error);
    return `a condition like "cpu_percent > 80" or "memory_growth > 100MB per 1h" (${reason})`;
  }
}

/**
 * A measured value for a log line: `93.5%`, `1523.4 MB`, `+120.0 MB`, `2`.
 *
 * @example
 * ```ts
 * formatAlertValue("memory", 146_890_752); // "146.9 MB"
 * ```
 */
export function formatAlertValue(measure: AlertMeasure, value: number | undefined): string {
  if (value === undefined) return "not measured yet";
  switch (measure) {
    case "cpu_percent":
      return `${value}%`;
    case "memory":
      return `${(value / 1e6).toFixed(1)} MB`;
    case "memory_growth":
      return `${value >= 0 ? "+" : ""}${(value / 1e6).toFixed(1)} MB`;
    default:
      return String(value);
  }
}
