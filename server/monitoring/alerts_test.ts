import { describe, expect, it } from "bun:test";
import type { AlertConfig } from "../config/types.ts";
import {
  AlertBoard,
  AlertEngine,
  type AlertReading,
  type AlertStatus,
  DuplicateAlertError,
} from "./alerts.ts";

/** An engine on a hand-moved clock and hand-set numbers, recording what fired and cleared. */
function rig(alerts: AlertConfig[]) {
  let t = 1_000_000;
  const reading: AlertReading = { cpuSeconds: 0, rssBytes: 100e6, streamsDown: 0, connections: 0 };
  const events: string[] = [];
  const engine = new AlertEngine(alerts, {
    now: () => t,
    read: () => ({ ...reading }),
    onFire: (s: AlertStatus) => events.push(`fire ${s.name} ${s.value}`),
    onResolve: (s: AlertStatus) => events.push(`resolve ${s.name} ${s.value}`),
  });
  const step = (ms: number, change: Partial<AlertReading> = {}) => {
    t += ms;
    Object.assign(reading, change);
    engine.check();
  };
  return { engine, events, step, reading };
}

const alert = (
  name: string,
  condition: string,
  duration = 0,
  action: AlertConfig["action"] = "notify",
): AlertConfig => ({
  name,
  condition,
  duration,
  action,
});

describe("AlertEngine", () => {
  it("fires once the condition has held for its duration, once, and resolves when it clears", () => {
    const { engine, events, step } = rig([alert("high_cpu", "cpu_percent > 80", 10)]);
    step(0); // first reading: no CPU figure yet
    expect(engine.statuses()[0]).toEqual({
      name: "high_cpu",
      condition: "cpu_percent > 80",
      action: "notify",
      firing: false,
    });
    step(5000, { cpuSeconds: 4.5 }); // 90 % of a core over 5 s
    step(5000, { cpuSeconds: 9 });
    expect(events).toEqual([]); // held 5 s of 10
    step(5000, { cpuSeconds: 13.5 });
    expect(events).toEqual(["fire high_cpu 90"]);
    const firing = engine.statuses()[0];
    expect(firing.firing).toBe(true);
    expect(firing.since).toBe(new Date(1_015_000).toISOString());
    step(5000, { cpuSeconds: 18 });
    expect(events.length).toBe(1); // no second fire while it holds
    step(5000, { cpuSeconds: 18.5 }); // 10 %
    expect(events).toEqual(["fire high_cpu 90", "resolve high_cpu 10"]);
    expect(engine.statuses()[0].firing).toBe(false);
  });

  it("a dip below the threshold restarts the duration", () => {
    const { events, step } = rig([alert("busy", "connections > 10", 10)]);
    step(0, { connections: 20 });
    step(6000);
    step(1000, { connections: 5 }); // dips
    step(1000, { connections: 20 });
    step(6000);
    expect(events).toEqual([]); // only 6 s since the dip
    step(4000);
    expect(events).toEqual(["fire busy 20"]);
  });

  it("memory growth compares with the reading a whole window ago, and waits for the window to pass", () => {
    const { engine, events, step } = rig([
      alert("leak", "memory_growth > 100MB per 1h"),
      alert("big", "memory > 1GB"),
    ]);
    step(0, { rssBytes: 100e6 });
    for (let i = 1; i <= 12; i++) step(5 * 60_000, { rssBytes: 100e6 + i * 15e6 }); // +180 MB over the hour
    // At exactly one hour the base is the first reading: 280 - 100 = 180 MB > 100 MB.
    expect(events).toEqual([`fire leak ${180e6}`]);
    expect(engine.statuses()[1]).toMatchObject({ name: "big", firing: false, value: 280e6 });
    step(5 * 60_000, { rssBytes: 280e6 }); // flat: the base moves on to 115 MB, growth 165 MB
    expect(engine.statuses()[0].value).toBe(165e6);
    for (let i = 0; i < 12; i++) step(5 * 60_000, { rssBytes: 280e6 });
    // Resolved at the first reading whose hour-old base leaves 100 MB or less: 280 - 190 = 90 MB.
    expect(events).toEqual([`fire leak ${180e6}`, `resolve leak ${90e6}`]);
  });

  it("refuses two alerts of one name", () => {
    expect(() => rig([alert("a", "rss > 1GB"), alert("a", "cpu > 50")])).toThrow(DuplicateAlertError);
    expect(() => rig([alert("a", "rss > 1GB"), alert("a", "cpu > 50")])).toThrow('two alerts named "a"');
  });

  it("streams down and duration 0 fire at the first check that sees them", () => {
    const { events, step } = rig([alert("down", "streams_down > 0")]);
    step(0, { streamsDown: 2 });
    expect(events).toEqual(["fire down 2"]);
  });
});

describe("AlertBoard", () => {
  it("shows the attached engine's alerts until it is detached", () => {
    const board = new AlertBoard();
    expect(board.statuses()).toEqual([]);
    const detach = board.attach(() => [{ name: "a", condition: "rss > 1", action: "notify", firing: true }]);
    expect(board.statuses().map((s) => s.name)).toEqual(["a"]);
    detach();
    expect(board.statuses()).toEqual([]);
  });
});
