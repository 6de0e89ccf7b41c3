import { describe, expect, it } from "bun:test";
import { ExpositionWriter } from "../metrics/exposition.ts";
import { ConnectionLimits } from "./connection_limits.ts";

describe("ConnectionLimits", () => {
  it("admits up to max_connections overall and max_connections_per_ip per address; release frees a slot once", () => {
    const limits = new ConnectionLimits({ max_connections: 3, max_connections_per_ip: 2 });
    const a1 = limits.admit("http", "10.0.0.1");
    const a2 = limits.admit("rtsp", "10.0.0.1");
    const a3 = limits.admit("rtmp", "10.0.0.1");
    expect("limit" in a1 || "limit" in a2).toBe(false);
    expect(a3).toMatchObject({ limit: "max_connections_per_ip" });
    expect((a3 as { message: string }).message).toContain("limits.max_connections_per_ip: 2");
    const b1 = limits.admit("http", "10.0.0.2");
    expect("limit" in b1).toBe(false);
    expect(limits.admit("http", "10.0.0.3")).toMatchObject({ limit: "max_connections" });
    if (!("limit" in a1)) {
      a1.release();
      a1.release(); // idempotent
    }
    expect(limits.open).toBe(2);
    expect(limits.openFrom("10.0.0.1")).toBe(1);
    expect("limit" in limits.admit("http", "10.0.0.3")).toBe(false);
  });

  it("refuses a viewer of a stream at max_connections_per_stream and counts refusals for /metrics", () => {
    const limits = new ConnectionLimits({ max_connections_per_stream: 2 });
    expect(limits.admitViewer("rtsp", "cam", 1)).toBeUndefined();
    expect(limits.admitViewer("rtsp", "cam", 2)?.message).toContain('Stream "cam" has 2 viewers');
    limits.count("http", "max_body_size");
    const writer = new ExpositionWriter();
    limits.writeMetrics(writer);
    const text = writer.text();
    expect(text).toContain('strom_limit_refusals_total{protocol="rtsp",limit="max_connections_per_stream"} 1');
    expect(text).toContain('strom_limit_refusals_total{protocol="http",limit="max_body_size"} 1');
  });

  it("without limits admits everyone", () => {
    const limits = new ConnectionLimits({});
    expect(limits.enabled).toBe(false);
    for (let i = 0; i < 100; i++) expect("limit" in limits.admit("http", "10.0.0.1")).toBe(false);
    expect(limits.admitViewer("http", "cam", 1000)).toBeUndefined();
  });
});
