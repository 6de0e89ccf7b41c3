import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { readFileSync } from "node:fs";
import { makeTestApp, type TestApp } from "../_test_support.ts";

const YAML = `# cameras of the house
api:
  listen: ":1984" # HTTP

streams:
  # the test pattern
  demo: "demo:" # keep me
  second: "demo:"
`;

describe("/api/streams", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await makeTestApp({ yaml: YAML, file: true });
  });
  afterAll(() => t.close());

  const put = (query: string) => t.app.request(`/api/streams?${query}`, { method: "PUT" });

  it("GET lists every stream by name", async () => {
    const res = await t.app.request("/api/streams");
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(Object.keys(body)).toEqual(["demo", "second"]);
    expect(body.demo.sources).toEqual(["demo:"]);
  });

  it("GET ?src= returns one stream, 404 with a message for an unknown one", async () => {
    const ok = await t.app.request("/api/streams?src=demo");
    expect(ok.status).toBe(200);
    expect((await ok.json()).name).toBe("demo");

    const missing = await t.app.request("/api/streams?src=nope");
    expect(missing.status).toBe(404);
    const body = await missing.json();
    expect(body.error).toBe("StreamNotFoundError");
    expect(body.message).toContain('"nope"');
  });

  it("PUT creates a stream with several sources and writes it back keeping comments", async () => {
    const res = await put("name=garage&src=demo:&src=demo:%23video=h264");
    expect(res.status).toBe(201);
    expect(t.hub.get("garage")?.sources).toEqual(["demo:", "demo:#video=h264"]);
    const text = readFileSync(t.path!, "utf8");
    expect(text).toContain("# cameras of the house");
    expect(text).toContain("# the test pattern");
    expect(text).toContain("# keep me");
    expect(text).toContain("garage:");
    expect(text).toContain("demo:#video=h264");
    expect(t.ctx.config.streams.garage).toEqual(["demo:", "demo:#video=h264"]);
  });

  it("PUT on an existing name replaces it (200)", async () => {
    const res = await put("name=garage&src=demo:");
    expect(res.status).toBe(200);
    expect(t.hub.get("garage")?.sources).toEqual(["demo:"]);
  });

  it("PUT rejects an unknown scheme with 400 naming it", async () => {
    const res = await put("name=x&src=foo://10.0.0.5/1");
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error).toBe("UnknownSchemeError");
    expect(body.message).toContain('"foo"');
    expect(t.hub.get("x")).toBeUndefined();
  });

  it("PUT masks passwords in error messages", async () => {
    const res = await put("name=x&src=foo://admin:hunter2@10.0.0.5/1");
    const body = await res.json();
    expect(body.message).not.toContain("hunter2");
  });

  it("PUT rejects bad names and missing sources", async () => {
    for (const q of ["name=a%20b&src=demo:", "name=a/b&src=demo:", "src=demo:x/y", "name=ok"]) {
      const res = await put(q);
      expect(res.status).toBe(400);
      const body = await res.json();
      expect(body.error).toBe("ApiError");
      expect(body.message.length).toBeGreaterThan(10);
    }
  });

  it("PUT refuses command-running schemes", async () => {
    const res = await put("name=x&src=exec:ls");
    expect(res.status).toBe(403);
    expect((await res.json()).message).toContain("exec");
  });

  it("PATCH updates an existing stream and 404s an unknown one", async () => {
    const res = await t.app.request("/api/streams?name=second&src=demo:%23audio=aac", { method: "PATCH" });
    expect(res.status).toBe(200);
    expect(t.hub.get("second")?.sources).toEqual(["demo:#audio=aac"]);
    expect(readFileSync(t.path!, "utf8")).toContain("demo:#audio=aac");

    const missing = await t.app.request("/api/streams?name=ghost&src=demo:", { method: "PATCH" });
    expect(missing.status).toBe(404);
  });

  it("DELETE removes a stream and writes back; 404 for unknown", async () => {
    const res = await t.app.request("/api/streams?src=garage", { method: "DELETE" });
    expect(res.status).toBe(200);
    expect(t.hub.get("garage")).toBeUndefined();
    const text = readFileSync(t.path!, "utf8");
    expect(text).not.toContain("garage");
    expect(text).toContain("# keep me");

    const again = await t.app.request("/api/streams?src=garage", { method: "DELETE" });
    expect(again.status).toBe(404);
    expect((await again.json()).message).toContain("garage");
  });

  it("POST (publish) refuses destinations that are not network URLs, and unknown streams", async () => {
    for (const dst of ["exec:touch /tmp/x", "ffmpeg:demo#raw=-f null", "file:///tmp/x.flv", "/tmp/x.flv", "http://h/x"]) {
      const res = await t.app.request(`/api/streams?src=demo&dst=${encodeURIComponent(dst)}`, { method: "POST" });
      expect(`${dst}: ${res.status}`).toBe(`${dst}: 400`);
      expect((await res.json()).message).toContain("only network destinations");
    }
    const missing = await t.app.request("/api/streams?src=demo", { method: "POST" });
    expect(missing.status).toBe(400);
    const unknown = await t.app.request("/api/streams?src=nope&dst=rtmp://127.0.0.1/x", { method: "POST" });
    expect(unknown.status).toBe(404);
  });

  it("POST (publish) to a destination that is down answers 502 with why, and keeps nothing", async () => {
    // Port 9 (discard) is closed on loopback: the connection is refused at once.
    const res = await t.app.request("/api/streams?src=demo&dst=rtmp://127.0.0.1:9/live/x", { method: "POST" });
    expect(res.status).toBe(502);
    // The stream key (last path segment) is a secret like a password.
    expect((await res.json()).message).toContain("rtmp://127.0.0.1:9/live/***");
    const info = await (await t.app.request("/api/streams?src=demo")).json();
    expect(info.consumers).toEqual([]);
    const del = await t.app.request("/api/streams?src=demo&dst=rtmp://127.0.0.1:9/live/x", { method: "DELETE" });
    expect(del.status).toBe(404);
  });

  it("concurrent PUTs all reach the file", async () => {
    const names = ["c1", "c2", "c3", "c4", "c5"];
    const results = await Promise.all(names.map((n) => put(`name=${n}&src=demo:`)));
    for (const r of results) expect(r.status).toBe(201);
    const text = readFileSync(t.path!, "utf8");
    for (const n of names) expect(text).toContain(`${n}:`);
  });
});

describe("/api/streams without a config file", () => {
  it("keeps changes in memory", async () => {
    const t = await makeTestApp({ yaml: "" });
    try {
      const res = await t.app.request("/api/streams?name=mem&src=demo:", { method: "PUT" });
      expect(res.status).toBe(201);
      expect(t.hub.get("mem")?.sources).toEqual(["demo:"]);
    } finally {
      await t.close();
    }
  });
});
