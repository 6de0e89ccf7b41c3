import { describe, expect, it } from "bun:test";
import { createLogger, type LogRecord } from "../../lib/core/log.ts";
import type { HooksConfig } from "../config/types.ts";
import { HookRunner } from "./runner.ts";
import { hookEnv, hookPayload } from "./payload.ts";

function logger() {
  const records: LogRecord[] = [];
  return { records, log: createLogger({ level: "debug", write: (_l, r) => records.push(r) }) };
}

const base: HooksConfig = { timeout: 10, max_running: 1, max_queued: 1 };

describe("HookRunner", () => {
  it("runs at most max_running, queues max_queued, drops the rest with one warning, and close kills what runs", async () => {
    const { records, log } = logger();
    const runner = new HookRunner(
      { ...base, on_ready: [{ command: "sleep 30", headers: {}, streams: [] }] },
      log,
    );
    const t0 = Date.now();
    for (let i = 0; i < 5; i++) {
      runner.handle({ type: "ready", stream: "cam", time: Date.now(), source: "demo:" });
    }
    // handle() never runs a hook itself: they start from a timer.
    expect(Date.now() - t0).toBeLessThan(500);
    expect(runner.stats).toMatchObject({ started: 0, queued: 2, dropped: 3 });
    await new Promise((r) => setTimeout(r, 50));
    expect(runner.stats).toMatchObject({ started: 1, running: 1, queued: 1, dropped: 3 });
    expect(records.filter((r) => r.msg.startsWith("hooks queue full")).length).toBe(1);
    await runner.close();
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(runner.stats).toMatchObject({ running: 0, queued: 0, started: 1 });
  });

  it("filters by stream and event, and skips hooks that cannot run with a clear log line", async () => {
    const { records, log } = logger();
    const runner = new HookRunner({
      ...base,
      max_running: 4,
      on_read: [
        { command: "true", headers: {}, streams: ["front_*"] },
        { headers: {}, streams: [] },
        { command: "sh -c 'unbalanced", headers: {}, streams: [] },
        { url: "ftp://example/x", headers: {}, streams: [] },
      ],
    }, log);
    const connection = { id: 7, format: "mp4", protocol: "http", remoteAddr: "127.0.0.1" };
    runner.handle({ type: "read", stream: "back", time: Date.now(), connection });
    runner.handle({ type: "unread", stream: "front_door", time: Date.now(), connection });
    await runner.idle();
    expect(runner.stats.started).toBe(0);
    runner.handle({ type: "read", stream: "front_door", time: Date.now(), connection });
    await runner.idle();
    expect(runner.stats.started).toBe(1);
    expect(runner.stats.failed).toBe(0);
    const msgs = records.map((r) => r.msg).join("\n");
    expect(msgs).toContain("hooks.on_read[1] has neither command nor url");
    expect(msgs).toContain("hooks.on_read[2].command cannot be split");
    expect(msgs).toContain("hooks.on_read[3].url must be an http:// or https:// URL");
    await runner.close();
  });

  it("logs a command that fails with its exit code and stderr, and one that cannot start", async () => {
    const { records, log } = logger();
    const runner = new HookRunner({
      ...base,
      max_running: 2,
      on_not_ready: [
        { command: "sh -c 'echo no disk >&2; exit 3'", headers: {}, streams: [] },
        { command: "/nonexistent/strom-hook", headers: {}, streams: [] },
      ],
    }, log);
    runner.handle({ type: "not_ready", stream: "cam", time: Date.now() });
    await runner.idle();
    expect(runner.stats.failed).toBe(2);
    const failed = records.find((r) => r.msg.includes("exit code 3"))!;
    expect(failed.fields).toMatchObject({ stderr: "no disk", event: "not_ready", stream: "cam" });
    expect(records.some((r) => r.msg.startsWith("hook command could not start"))).toBe(true);
    await runner.close();
  });
});

describe("hook payloads", () => {
  it("describe an event the same way as JSON and as STROM_* variables", () => {
    const time = Date.parse("2026-01-02T03:04:05.000Z");
    const seg = {
      type: "segment_complete" as const,
      stream: "cam",
      time,
      path: "/r/cam/a.mp4",
      start: time - 60_000,
      duration: 60.02,
    };
    expect(hookPayload(seg)).toEqual({
      event: "segment_complete",
      stream: "cam",
      time: "2026-01-02T03:04:05.000Z",
      segment: { path: "/r/cam/a.mp4", start: "2026-01-02T03:03:05.000Z", duration: 60.02 },
    });
    expect(hookEnv(seg)).toEqual({
      STROM_EVENT: "segment_complete",
      STROM_STREAM: "cam",
      STROM_PATH: "cam",
      STROM_TIME: "2026-01-02T03:04:05.000Z",
      STROM_SEGMENT_PATH: "/r/cam/a.mp4",
      STROM_SEGMENT_START: "2026-01-02T03:03:05.000Z",
      STROM_SEGMENT_DURATION: "60.02",
    });
    const err = {
      type: "source_error" as const,
      stream: "cam",
      time,
      source: "rtsp://a:***@cam/1",
      error: "refused",
    };
    expect(hookEnv(err)).toMatchObject({ STROM_SOURCE: "rtsp://a:***@cam/1", STROM_ERROR: "refused" });
    const pub = {
      type: "publish" as const,
      stream: "cam",
      time,
      connection: { id: 3, format: "rtmp", protocol: "rtmp", remoteAddr: "10.0.0.9:5000" },
    };
    expect(hookPayload(pub).connection).toEqual({
      id: 3,
      format: "rtmp",
      protocol: "rtmp",
      remote_addr: "10.0.0.9:5000",
    });
    expect(hookEnv(pub)).toMatchObject({
      STROM_CONN_ID: "3",
      STROM_CONN_FORMAT: "rtmp",
      STROM_REMOTE_ADDR: "10.0.0.9:5000",
    });
    const off = { type: "disabled" as const, stream: "cam", time, reason: "someone is home" };
    expect(hookPayload(off)).toEqual({
      event: "disabled",
      stream: "cam",
      time: "2026-01-02T03:04:05.000Z",
      reason: "someone is home",
    });
    expect(hookEnv(off)).toMatchObject({ STROM_EVENT: "disabled", STROM_REASON: "someone is home" });
    expect(hookPayload({ type: "enabled", stream: "cam", time })).toEqual({
      event: "enabled",
      stream: "cam",
      time: "2026-01-02T03:04:05.000Z",
    });
  });
});
