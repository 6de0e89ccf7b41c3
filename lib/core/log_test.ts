import { describe, expect, it } from "bun:test";
import { createLogger, type LogRecord } from "./log.ts";

describe("log", () => {
  it("filters by level, writes text with fields and masks secrets and URL passwords", () => {
    const lines: string[] = [];
    const log = createLogger({ level: "info", write: (l) => lines.push(l), secrets: ["hunter2"] }).child({
      module: "rtsp",
    });
    log.debug("hidden");
    log.info("dial rtsp://admin:pw@cam/1", { token: "hunter2", n: 1 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/ INF dial rtsp:\/\/admin:\*\*\*@cam\/1 module=rtsp token=\*\*\* n=1$/);
  });

  it("writes JSON lines", () => {
    const records: LogRecord[] = [];
    const lines: string[] = [];
    const log = createLogger({ format: "json", write: (l, r) => (lines.push(l), records.push(r)) });
    log.warn("slow viewer", { drops: 3 });
    expect(JSON.parse(lines[0])).toMatchObject({ level: "warn", msg: "slow viewer", drops: 3 });
    expect(records[0].level).toBe("warn");
  });
});
