import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { makeTestApp, type TestApp } from "../_test_support.ts";

describe("GET /api and /api/health", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await makeTestApp({ yaml: 'rtsp:\n  listen: ":8554"\nstreams:\n  a: "demo:"\n  b: "demo:"\n', file: true });
  });
  afterAll(() => t.close());

  it("GET /api reports version, config path, host and the RTSP listen address", async () => {
    const res = await t.app.request("/api", { headers: { host: "cam.local:1984" } });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.version).toBe("9.9.9-test");
    expect(body.config_path).toBe(t.path);
    expect(body.host).toBe("cam.local:1984");
    expect(body.rtsp.listen).toBe(":8554");
    expect(body.rtsp.default_query).toBe("video&audio");
  });

  it("GET /api/health answers ok with uptime and stream count", async () => {
    const res = await t.app.request("/api/health");
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.status).toBe("ok");
    expect(typeof body.uptime_s).toBe("number");
    expect(body.streams).toBe(2);
  });

  it("unknown paths answer a JSON 404", async () => {
    const res = await t.app.request("/api/nope");
    expect(res.status).toBe(404);
    expect((await res.json()).error).toBe("NotFound");
  });
});
