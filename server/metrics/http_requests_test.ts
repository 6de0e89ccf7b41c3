import { describe, expect, it } from "bun:test";
import { Hono } from "hono";
import { parseExposition } from "./_exposition_parser.ts";
import { ExpositionWriter } from "./exposition.ts";
import { HttpRequestMetrics, matchedRoute, UNMATCHED_ROUTE } from "./http_requests.ts";

function counts(m: HttpRequestMetrics): Record<string, number> {
  const w = new ExpositionWriter();
  m.write(w.counter("strom_http_requests_total", "r"));
  const out: Record<string, number> = {};
  for (const s of parseExposition(w.text()).get("strom_http_requests_total")!.samples) {
    out[`${s.labels.method} ${s.labels.route} ${s.labels.status}`] = s.value;
  }
  return out;
}

function testApp(basePath = ""): Hono {
  const app = basePath ? new Hono().basePath(basePath) : new Hono();
  app.onError((_error, c) => c.text("failed", 500));
  app.use("*", async (_c, next) => {
    await next();
  });
  app.get("/api/items/:id", (c) => c.json({ id: c.req.param("id") }));
  app.get("/api/fail", () => {
    throw new Error("boom");
  });
  app.get("/api/stream", (c) => c.body(new ReadableStream({ start: (ctl) => ctl.close() })));
  return app;
}

describe("HttpRequestMetrics", () => {
  it("counts by method, route pattern and status, including 404 and 500", async () => {
    const app = testApp();
    const m = new HttpRequestMetrics();
    m.instrument(app);
    await app.request("/api/items/1");
    await app.request("/api/items/2");
    await app.request("/api/items/3", { method: "HEAD" });
    await app.request("/api/fail");
    await app.request("/nope/at/all");
    await app.request("/api/stream");
    await app.request("/api/items/4", { method: "PROPFIND" });
    expect(counts(m)).toEqual({
      "GET /api/items/:id 200": 2,
      "HEAD /api/items/:id 200": 1,
      "GET /api/fail 500": 1,
      [`GET ${UNMATCHED_ROUTE} 404`]: 1,
      "GET /api/stream 200": 1,
      [`OTHER ${UNMATCHED_ROUTE} 404`]: 1,
    });
  });

  it("uses the full pattern under a base path", async () => {
    const app = testApp("/rtc");
    const m = new HttpRequestMetrics();
    m.instrument(app);
    await app.request("/rtc/api/items/9");
    expect(counts(m)).toEqual({ "GET /rtc/api/items/:id 200": 1 });
  });

  it("skips middleware when naming the route", () => {
    const app = testApp();
    expect(matchedRoute(app, new Request("http://x/api/items/5"))).toBe("/api/items/:id");
    expect(matchedRoute(app, new Request("http://x/other"))).toBe(UNMATCHED_ROUTE);
  });
});
