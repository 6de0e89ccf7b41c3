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
    // No RTSPS listener: no tls_listen, as go2rtc's answer.
    expect(Object.keys(body.rtsp).sort()).toEqual(["default_query", "listen"]);
  });

  it("GET /api reports rtsp.tls_listen when RTSPS is on (an https edge pulls from it)", async () => {
    const tls = await makeTestApp({ yaml: 'rtsp:\n  listen: ":8554"\n  tls_listen: ":8322"\n' });
    try {
      const body = await (await tls.app.request("/api")).json();
      expect(body.rtsp).toEqual({ listen: ":8554", default_query: "video&audio", tls_listen: ":8322" });
    } finally {
      await tls.close();
    }
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
