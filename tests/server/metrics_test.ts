/**
 * The metrics module on a real app: a hub with the demo stream, one in-process viewer and one HTTP
 * output, scraped through `app.request()` and checked with a strict parser of the text format.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { Hono } from "hono";
import { audioMedia, H264, RecordingConsumer, videoMedia, waitFor } from "../../lib/core/_testing.ts";
import { CodecName } from "../../lib/core/codec.ts";
import { makeTestApp, type TestApp } from "../../server/_test_support.ts";
import { type ParsedFamily, parseExposition } from "../../server/metrics/_exposition_parser.ts";
import { createMetricsModule } from "../../server/modules/metrics.ts";

const basic = (user: string, pass: string) => ({ authorization: `Basic ${btoa(`${user}:${pass}`)}` });

async function withMetrics(yaml: string, remoteAddress?: string): Promise<TestApp> {
  const t = await makeTestApp({ yaml, remoteAddress });
  await createMetricsModule({ stats: { residentMemoryBytes: () => 123_456_789, cpuSeconds: () => 2.5 } })
    .init({ ...t.ctx, wsHandlers: new Map() }, t.app);
  return t;
}

async function scrape(app: Hono, path = "/metrics"): Promise<Map<string, ParsedFamily>> {
  const res = await app.request(path);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  return parseExposition(await res.text());
}

function sample(
  f: Map<string, ParsedFamily>,
  name: string,
  labels: Record<string, string>,
): number | undefined {
  return f.get(name)?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

describe("GET /metrics with the demo stream", () => {
  let t: TestApp;
  let viewer: RecordingConsumer;
  beforeAll(async () => {
    t = await withMetrics('streams:\n  demo: "demo:"\n  spare: "demo:"\nmetrics:\n  enabled: true\n');
    viewer = new RecordingConsumer([
      videoMedia("sendonly", H264),
      audioMedia("sendonly", { name: CodecName.ANY, clockRate: 0 }),
    ]);
    await t.hub.get("demo")!.addConsumer(viewer);
    await waitFor(() => viewer.frames.video.length >= 3 && viewer.frames.audio.length >= 3, 5000);
  });
  afterAll(async () => {
    await t.hub.get("demo")?.removeConsumer(viewer);
    await t.close();
  });

  it("shows every family with HELP and TYPE, and passes the strict parser", async () => {
    const f = await scrape(t.app);
    const expected: Record<string, string> = {
      strom_build_info: "gauge",
      strom_process_resident_memory_bytes: "gauge",
      strom_process_cpu_seconds_total: "counter",
      strom_process_start_time_seconds: "gauge",
      strom_uptime_seconds: "gauge",
      strom_http_requests_total: "counter",
      strom_streams: "gauge",
      strom_stream_consumers: "gauge",
      strom_stream_bytes_sent_total: "counter",
      strom_consumers: "gauge",
      strom_stream_producers: "gauge",
      strom_source_up: "gauge",
      strom_source_reconnects_total: "counter",
      strom_track_frames_total: "counter",
      strom_track_bytes_total: "counter",
      strom_track_drops_total: "counter",
      strom_track_senders: "gauge",
    };
    for (const [name, type] of Object.entries(expected)) {
      expect(f.get(name)?.type).toBe(type);
      expect(f.get(name)?.help?.length).toBeGreaterThan(5);
    }
    for (const name of f.keys()) expect(name.startsWith("strom_")).toBe(true);
  });

  it("labels process, stream, source and track series", async () => {
    const f = await scrape(t.app);
    const build = f.get("strom_build_info")!.samples[0];
    expect(build.labels.version).toBe("9.9.9-test");
    expect(["node", "deno", "bun"]).toContain(build.labels.runtime);
    expect(sample(f, "strom_process_resident_memory_bytes", {})).toBe(123_456_789);
    expect(sample(f, "strom_process_cpu_seconds_total", {})).toBe(2.5);
    expect(sample(f, "strom_uptime_seconds", {})).toBeGreaterThanOrEqual(0);

    expect(sample(f, "strom_streams", {})).toBe(2);
    expect(sample(f, "strom_stream_consumers", { stream: "demo" })).toBe(1);
    expect(sample(f, "strom_stream_consumers", { stream: "spare" })).toBe(0);
    expect(sample(f, "strom_consumers", { format: "recording" })).toBe(1);
    expect(sample(f, "strom_source_up", { stream: "demo", url: "demo:" })).toBe(1);
    expect(sample(f, "strom_source_up", { stream: "spare", url: "demo:" })).toBe(0);
    expect(sample(f, "strom_stream_producers", { stream: "demo", state: "running" })).toBe(1);
    expect(sample(f, "strom_stream_producers", { stream: "spare", state: "idle" })).toBe(1);
    expect(sample(f, "strom_source_reconnects_total", { stream: "demo", url: "demo:" })).toBe(0);

    const video = { stream: "demo", url: "demo:", media: "video", codec: "H264" };
    const audio = { stream: "demo", url: "demo:", media: "audio", codec: "MPEG4-GENERIC" };
    expect(sample(f, "strom_track_frames_total", video)).toBeGreaterThanOrEqual(3);
    expect(sample(f, "strom_track_bytes_total", video)).toBeGreaterThan(100);
    expect(sample(f, "strom_track_frames_total", audio)).toBeGreaterThanOrEqual(3);
    expect(sample(f, "strom_track_drops_total", video)).toBe(0);
    expect(sample(f, "strom_track_senders", video)).toBe(1);
  });

  it("counts an HTTP output by its format while it streams", async () => {
    const res = await t.app.request("/api/stream.ts?src=demo");
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const first = await Promise.race([
        reader.read(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error("no MPEG-TS bytes within 5 s")), 5000);
        }),
      ]);
      clearTimeout(timer);
      expect(first.done).toBe(false);
      const f = await scrape(t.app);
      expect(sample(f, "strom_stream_consumers", { stream: "demo" })).toBe(2);
      expect(sample(f, "strom_consumers", { format: "mpegts" })).toBe(1);
      expect(sample(f, "strom_consumers", { format: "recording" })).toBe(1);
    } finally {
      clearTimeout(timer);
      await reader.cancel();
    }
    await waitFor(() => t.hub.get("demo")!.consumers().length === 1, 3000);
  });

  it("counts the bytes sent to a stream's viewers, and keeps them once the viewer left", async () => {
    expect(sample(await scrape(t.app), "strom_stream_bytes_sent_total", { stream: "spare" })).toBe(0);
    const res = await t.app.request("/api/stream.ts?src=spare");
    const reader = res.body!.getReader();
    let received = 0;
    try {
      const deadline = Date.now() + 5000;
      while (received < 10_000 && Date.now() < deadline) {
        const { value, done } = await reader.read();
        if (done) break;
        received += value.byteLength;
      }
      expect(received).toBeGreaterThanOrEqual(10_000);
      expect(sample(await scrape(t.app), "strom_stream_bytes_sent_total", { stream: "spare" })).toBeGreaterThanOrEqual(received);
    } finally {
      await reader.cancel();
    }
    await waitFor(() => t.hub.get("spare")!.consumers().length === 0, 3000);
    expect(sample(await scrape(t.app), "strom_stream_bytes_sent_total", { stream: "spare" })).toBeGreaterThanOrEqual(received);
  });

  it("counts HTTP requests by route pattern and status", async () => {
    const before = sample(await scrape(t.app), "strom_http_requests_total", {
      method: "GET",
      route: "/api/streams",
      status: "200",
    }) ?? 0;
    await t.app.request("/api/streams");
    await t.app.request("/api/streams?src=demo");
    await t.app.request("/no/such/thing");
    const f = await scrape(t.app);
    expect(sample(f, "strom_http_requests_total", { method: "GET", route: "/api/streams", status: "200" }))
      .toBe(before + 2);
    expect(sample(f, "strom_http_requests_total", { method: "GET", route: "unmatched", status: "404" }))
      .toBeGreaterThanOrEqual(1);
    // Scrapes count too, under the metrics route.
    expect(sample(f, "strom_http_requests_total", { method: "GET", route: "/metrics", status: "200" }))
      .toBeGreaterThanOrEqual(2);
    // Raw paths never become labels.
    const routes = f.get("strom_http_requests_total")!.samples.map((s) => s.labels.route);
    expect(routes).not.toContain("/no/such/thing");
  });
});

describe("metrics config", () => {
  it("answers 404 when metrics.enabled is false", async () => {
    const t = await withMetrics('streams:\n  demo: "demo:"\n');
    try {
      expect((await t.app.request("/metrics")).status).toBe(404);
    } finally {
      await t.close();
    }
  });

  it("serves metrics.path under api.base_path", async () => {
    const t = await withMetrics("api:\n  base_path: /rtc\nmetrics:\n  enabled: true\n  path: /prom\n");
    try {
      expect((await t.app.request("/metrics")).status).toBe(404);
      expect((await t.app.request("/rtc/metrics")).status).toBe(404);
      const f = await scrape(t.app, "/rtc/prom");
      expect(sample(f, "strom_streams", {})).toBe(0);
    } finally {
      await t.close();
    }
  });

  it("sits behind the API's Basic auth and api.allow_paths", async () => {
    const yaml = 'api:\n  username: admin\n  password: "s3cret"\nmetrics:\n  enabled: true\n';
    const t = await withMetrics(yaml, "192.168.1.20");
    try {
      expect((await t.app.request("/metrics")).status).toBe(401);
      expect((await t.app.request("/metrics", { headers: basic("admin", "s3cret") })).status).toBe(200);
    } finally {
      await t.close();
    }
    const allowed = await withMetrics("api:\n  allow_paths: [/api/streams]\nmetrics:\n  enabled: true\n");
    try {
      expect((await allowed.app.request("/metrics")).status).toBe(404);
    } finally {
      await allowed.close();
    }
  });

  it("never shows stream source passwords", async () => {
    const t = await withMetrics(
      'streams:\n  cam: "rtsp://admin:hunter22@10.0.0.9/live"\nmetrics:\n  enabled: true\n',
    );
    try {
      const text = await (await t.app.request("/metrics")).text();
      expect(text).toContain('url="rtsp://admin:***@10.0.0.9/live"');
      expect(text).not.toContain("hunter22");
    } finally {
      await t.close();
    }
  });
});
