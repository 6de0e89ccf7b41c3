import { describe, expect, it } from "bun:test";
import {
  AlertConditionError,
  alertConditionProblem,
  formatAlertValue,
  holds,
  parseAlertCondition,
} from "./condition.ts";

describe("alert conditions", () => {
  it("reads the seed article's conditions and the other measures, with units and aliases", () => {
    expect(parseAlertCondition("cpu_percent > 80")).toEqual({
      measure: "cpu_percent",
      op: ">",
      threshold: 80,
    });
    expect(parseAlertCondition("cpu_usage >= 75.5%")).toEqual({
      measure: "cpu_percent",
      op: ">=",
      threshold: 75.5,
    });
    expect(parseAlertCondition("memory_growth > 100MB per 1h")).toEqual({
      measure: "memory_growth",
      op: ">",
      threshold: 100e6,
      perMs: 3_600_000,
    });
    expect(parseAlertCondition("memory_usage > 1.5GiB").threshold).toBe(1.5 * 1024 ** 3);
    expect(parseAlertCondition("rss<512MB")).toEqual({ measure: "memory", op: "<", threshold: 512e6 });
    expect(parseAlertCondition("streams_down > 0")).toEqual({
      measure: "streams_down",
      op: ">",
      threshold: 0,
    });
    expect(parseAlertCondition("connection_count <= 3").measure).toBe("connections");
  });

  it("says what is wrong with a condition that does not read", () => {
    const cases: [string, RegExp][] = [
      ["cpu is high", /<measure> <op> <number>/],
      ["load > 3", /"load" is not a measure; use one of cpu_percent, memory/],
      ["memory > 100 apples", /is not a size/],
      ["cpu_percent > 80MB", /plain number \(or with %\)/],
      ["memory_growth > 100MB", /needs a window/],
      ["memory > 1GB per 1h", /only goes with memory_growth/],
    ];
    for (const [text, why] of cases) {
      const error = (() => {
        try {
          parseAlertCondition(text);
        } catch (e) {
          return e;
        }
      })() as AlertConditionError;
      expect(error).toBeInstanceOf(AlertConditionError);
      expect(error.condition).toBe(text);
      expect(error.message).toMatch(why);
    }
    expect(alertConditionProblem("cpu_percent > 80")).toBeUndefined();
    expect(alertConditionProblem("load > 3")).toMatch(
      /^a condition like "cpu_percent > 80".*"load" is not a measure/,
    );
  });

  it("compares with each operator", () => {
    const c = (op: ">" | ">=" | "<" | "<=") => ({ measure: "connections" as const, op, threshold: 5 });
    expect([holds(c(">"), 5), holds(c(">="), 5), holds(c("<"), 5), holds(c("<="), 5)]).toEqual([
      false,
      true,
      false,
      true,
    ]);
    expect([holds(c(">"), 6), holds(c("<"), 4)]).toEqual([true, true]);
  });

  it("shows measured values in their units for log lines", () => {
    expect(formatAlertValue("cpu_percent", 93.5)).toBe("93.5%");
    expect(formatAlertValue("memory", 146_890_752)).toBe("146.9 MB");
    expect(formatAlertValue("memory_growth", 120e6)).toBe("+120.0 MB");
    expect(formatAlertValue("streams_down", 2)).toBe("2");
    expect(formatAlertValue("connections", undefined)).toBe("not measured yet");
  });
});
