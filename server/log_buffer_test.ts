import { describe, expect, it } from "bun:test";
import { createLogger } from "../lib/core/log.ts";
import { LogBuffer } from "./log_buffer.ts";

describe("LogBuffer", () => {
  it("keeps records as JSON lines, oldest first", () => {
    const buffer = new LogBuffer();
    const log = createLogger({ level: "debug", write: (_line, record) => buffer.write(record) });
    log.info("first", { stream: "cam" });
    log.debug("second");
    const lines = buffer.text().trimEnd().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((l) => l.msg)).toEqual(["first", "second"]);
    expect(lines[0].level).toBe("info");
    expect(lines[0].stream).toBe("cam");
    expect(buffer.size).toBe(2);
  });

  it("drops the oldest lines beyond maxBytes", () => {
    const buffer = new LogBuffer({ maxBytes: 2048 });
    for (let i = 0; i < 500; i++) buffer.write({ time: 0, level: "info", msg: `line ${i}`, fields: {} });
    const text = buffer.text();
    expect(text.length).toBeLessThanOrEqual(2048);
    expect(text).toContain('"msg":"line 499"');
    expect(text).not.toContain('"msg":"line 0"');
  });

  it("masks URL passwords and configured secrets", () => {
    const buffer = new LogBuffer({ secrets: ["hunter2"] });
    buffer.write({ time: 0, level: "warn", msg: "dial rtsp://admin:pw@10.0.0.5/1 failed", fields: { token: "hunter2" } });
    const text = buffer.text();
    expect(text).toContain("rtsp://admin:***@10.0.0.5/1");
    expect(text).not.toContain("hunter2");
    expect(text).not.toContain(":pw@");
  });

  it("clear() empties it", () => {
    const buffer = new LogBuffer();
    buffer.write({ time: 0, level: "info", msg: "x", fields: {} });
    buffer.clear();
    expect(buffer.text()).toBe("");
    expect(buffer.size).toBe(0);
  });
});
