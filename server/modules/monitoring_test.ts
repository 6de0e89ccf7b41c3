// The monitoring module's actions on a test app: `exit` and `restart` ask the server to stop (with
// exit code 75, or for a restart) only after its first minute, and only while the alert still
// fires; `notify` never does. The clock is moved by hand; the numbers are pinned.
import { describe, expect, it } from "bun:test";
import type { StreamEvent } from "../../lib/core/events.ts";
import { makeTestApp } from "../_test_support.ts";
import type { StopRequest } from "../context.ts";
import { AlertBoard } from "../monitoring/alerts.ts";
import { createMetricsModule } from "./metrics.ts";
import { ALERT_EXIT_CODE, createMonitoringModule } from "./monitoring.ts";

async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function rig(action: "exit" | "restart" | "notify") {
  const t = await makeTestApp({
    yaml:
      `monitoring:\n  enabled: true\n  interval: 0.1\n  alerts:\n    - { name: huge, condition: "memory > 1GB", action: ${action} }\n`,
  });
  const stops: StopRequest[] = [];
  t.ctx.requestStop = (r) => void stops.push(r);
  t.ctx.alerts = new AlertBoard();
  const events: StreamEvent[] = [];
  t.hub.events.on((e) => void events.push(e));
  let offset = 0;
  let rss = 2e9;
  const module = createMonitoringModule({
    now: () => Date.now() + offset,
    stats: { residentMemoryBytes: () => rss, cpuSeconds: () => 0 },
  });
  const moduleCtx = { ...t.ctx, wsHandlers: new Map() };
  // monitoring.enabled turns the metrics on as well.
  await createMetricsModule().init(moduleCtx, t.app);
  const handle = await module.init(moduleCtx, t.app);
  return {
    t,
    stops,
    events,
    passMinute: () => void (offset += 61_000),
    shrink: () => void (rss = 1e8),
    async [Symbol.asyncDispose]() {
      await handle?.close();
      await t.close();
    },
  };
}

describe("monitoring module actions", () => {
  it("exit stops the server with code 75 once it has run a minute, and the alert is in /health and the hooks' events", async () => {
    await using r = await rig("exit");
    await until("the alert to fire", () => r.events.some((e) => e.type === "alert"));
    await new Promise((res) => setTimeout(res, 300));
    expect(r.stops).toEqual([]); // first minute
    expect(r.t.buffer.text()).toContain("waits until the server has run a minute");
    const health = await (await r.t.app.request("/health")).json();
    expect(health.alerts).toEqual([
      expect.objectContaining({ name: "huge", firing: true, action: "exit", value: 2e9 }),
    ]);
    expect(await (await r.t.app.request("/metrics")).text()).toContain('strom_alert_firing{alert="huge"} 1');
    r.passMinute();
    await until("the stop request", () => r.stops.length > 0);
    expect(r.stops).toEqual([{ restart: false, code: ALERT_EXIT_CODE }]);
    const fired = r.events.find((e) => e.type === "alert")!;
    expect(fired).toMatchObject({
      type: "alert",
      stream: "",
      state: "firing",
      alert: "huge",
      value: 2e9,
      action: "exit",
    });
  });

  it("restart is dropped when the alert cleared during the first minute; notify never stops anything", async () => {
    {
      await using r = await rig("restart");
      await until("the alert to fire", () => r.events.some((e) => e.type === "alert"));
      r.shrink();
      await until(
        "the alert to resolve",
        () => r.events.some((e) => e.type === "alert" && e.state === "resolved"),
      );
      r.passMinute();
      await new Promise((res) => setTimeout(res, 300));
      expect(r.stops).toEqual([]);
    }
    await using n = await rig("notify");
    await until("the alert to fire", () => n.events.some((e) => e.type === "alert"));
    n.passMinute();
    await new Promise((res) => setTimeout(res, 300));
    expect(n.stops).toEqual([]);
    expect(n.t.buffer.text()).toContain('alert \\"huge\\" firing: memory > 1GB');
  });

  it("restart asks for a restart once the minute has passed and the alert still fires", async () => {
    await using r = await rig("restart");
    await until("the alert to fire", () => r.events.some((e) => e.type === "alert"));
    r.passMinute();
    await until("the stop request", () => r.stops.length > 0);
    expect(r.stops).toEqual([{ restart: true, code: 0 }]);
  });
});
