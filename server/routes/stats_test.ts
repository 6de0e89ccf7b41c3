// The seed article's debugging endpoints: /api/connections, /api/connections.dot and /api/stats
// (what `watch -n 1 'curl -s /api/stats | jq .'` shows), on a test app with the demo stream played
// by an MPEG-TS viewer.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { Hono } from "hono";
import { makeTestApp, type TestApp } from "../_test_support.ts";
import { statsRoutes } from "./stats.ts";

describe("GET /api/connections, /api/connections.dot, /api/stats", () => {
  let t: TestApp;
  let reader: ReadableStreamDefaultReader<Uint8Array>;
  let received = 0;
  beforeAll(async () => {
    t = await makeTestApp({ yaml: 'streams:\n  demo: "demo:"\n  idle: "demo:"\n' });
    const res = await t.app.request("/api/stream.ts?src=demo");
    reader = res.body!.getReader();
    const deadline = Date.now() + 5000;
    while (received < 5000 && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      received += value.byteLength;
    }
  });
  afterAll(async () => {
    await reader?.cancel();
    await t.close();
  });

  it("lists each stream's source and viewers as flat connections", async () => {
    const res = await t.app.request("/api/connections");
    expect(res.status).toBe(200);
    const { connections } = await res.json() as { connections: Record<string, unknown>[] };
    expect(connections.filter((c) => c.stream === "demo").map((c) => [c.role, c.role === "producer" ? c.state : c.format]))
      .toEqual([["producer", "running"], ["consumer", "mpegts"]]);
    expect(connections.filter((c) => c.stream === "idle")).toEqual([
      { stream: "idle", role: "producer", url: "demo:", state: "idle" },
    ]);
    expect(Number(connections.find((c) => c.role === "consumer")!.bytesOut)).toBeGreaterThanOrEqual(received);
  });

  it("draws the same graph as /api/streams.dot", async () => {
    const dot = await (await t.app.request("/api/connections.dot")).text();
    const streams = await (await t.app.request("/api/streams.dot")).text();
    expect(dot).toMatch(/^digraph /);
    // Byte counts move between the two requests; the shape is the same.
    const shape = (text: string) => text.replace(/\d+(\.\d+)? (B|kB|MB|GB)/g, "N");
    expect(shape(dot)).toBe(shape(streams));
  });

  it("sums the server's numbers, CPU as percent of one core since the previous call", async () => {
    const first = await (await t.app.request("/api/stats")).json();
    expect(first).toMatchObject({ streams: 2, streams_down: 0, producers: 1, consumers: 1 });
    expect(first.memory_rss_bytes).toBeGreaterThan(10_000_000);
    expect(first.cpu_seconds).toBeGreaterThan(0);
    expect(first.bytes_received).toBeGreaterThan(0);
    expect(first.bytes_sent).toBeGreaterThanOrEqual(received);
    await new Promise((r) => setTimeout(r, 300));
    const second = await (await t.app.request("/api/stats")).json();
    // At most the machine's cores (this test runs on 2), never the process's whole CPU time since
    // it started divided by a short interval.
    expect(second.cpu_percent).toBeGreaterThanOrEqual(0);
    expect(second.cpu_percent).toBeLessThan(800);
    expect(first.cpu_percent).toBeLessThan(800);
    expect(second.cpu_seconds).toBeGreaterThanOrEqual(first.cpu_seconds);
  });
  it("measures CPU from when it was set up, not from the process's start (a long-running process)", async () => {
    let cpu = 1000; // seconds the process has already used
    const app = new Hono();
    statsRoutes(app, t.ctx, { cpuSeconds: () => cpu, residentMemoryBytes: () => 50e6 });
    await new Promise((r) => setTimeout(r, 250));
    cpu += 0.1;
    const stats = await (await app.request("/api/stats")).json();
    expect(stats.cpu_seconds).toBe(1000.1);
    expect(stats.cpu_percent).toBeGreaterThan(1);
    expect(stats.cpu_percent).toBeLessThan(45); // 0.1 s over about 250 ms or more
  });
});
