import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { readFileSync } from "node:fs";
import { makeTestApp, type TestApp } from "../_test_support.ts";

const YAML = '# my cameras\nstreams:\n  demo: "demo:" # test pattern\n  old: "demo:"\n';

describe("/api/config with a config file", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await makeTestApp({ yaml: YAML, file: true });
  });
  afterAll(() => t.close());

  it("GET returns the file's YAML text", async () => {
    const res = await t.app.request("/api/config");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("yaml");
    expect(await res.text()).toBe(YAML);
  });

  it("POST with malformed YAML answers 400 with file:line:column and leaves the file alone", async () => {
    const bad = "streams:\n  demo: demo:\n  cam: [unclosed\n";
    const res = await t.app.request("/api/config", { method: "POST", body: bad });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error).toBe("ConfigError");
    expect(body.message).toMatch(new RegExp(`${t.path!.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:\\d+:\\d+: `));
    expect(readFileSync(t.path!, "utf8")).toBe(YAML);
  });

  it("POST of deeply nested or huge YAML answers 400 naming the limit, and the server goes on", async () => {
    // Before: 256 KiB of "[" (or "{", "- ") ran the YAML composer into the stack limit, where V8
    // ended the whole process, and 256 KiB of short stream names took 8 s of the event loop.
    let names = "streams:\n";
    for (let i = 0; names.length < 200_000; i++) names += ` c${i}:\n`;
    for (
      const [body, reason] of [
        ["[".repeat(262_144), "nested more than 64 levels"],
        ["- ".repeat(20_000), "nested more than 64 levels"],
        [names, "More than 100000 YAML tokens"],
      ]
    ) {
      const res = await t.app.request("/api/config", { method: "POST", body });
      expect(res.status).toBe(400);
      const json = await res.json();
      expect(json.error).toBe("ConfigError");
      expect(json.message).toMatch(/:\d+:\d+: cannot parse YAML: /);
      expect(json.message).toContain(reason);
    }
    expect(readFileSync(t.path!, "utf8")).toBe(YAML);
    expect((await t.app.request("/api/config")).status).toBe(200);
  });

  it("POST with a wrong type answers 400 naming the line", async () => {
    const res = await t.app.request("/api/config", { method: "POST", body: "api:\n  listen: [1, 2]\n" });
    expect(res.status).toBe(400);
    expect((await res.json()).message).toMatch(/:2:\d+: /);
  });

  it("POST with a scheme strom lacks is accepted with a warning naming the stream and scheme", async () => {
    // go2rtc configs hold homekit://, tapo://...: they load; only playing that source fails.
    const body = '# my cameras\nstreams:\n  demo: "demo:" # test pattern\n  old: "demo:"\n  lock: homekit://x\n';
    const res = await t.app.request("/api/config", { method: "POST", body });
    expect(res.status).toBe(200);
    const json = await res.json();
    expect(json.warnings.join("\n")).toContain('streams.lock: Unknown source scheme "homekit"');
    expect(t.hub.get("lock")?.sources).toEqual(["homekit://x"]);
    const back = await t.app.request("/api/config", { method: "POST", body: YAML });
    expect(back.status).toBe(200);
  });

  it("POST replaces the file and applies the streams", async () => {
    const next = '# new\nstreams:\n  demo: "demo:"\n  added: "demo:#video=h264"\n';
    const res = await t.app.request("/api/config", { method: "POST", body: next });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.ok).toBe(true);
    expect(readFileSync(t.path!, "utf8")).toBe(next);
    expect(t.hub.get("added")?.sources).toEqual(["demo:#video=h264"]);
    expect(t.hub.get("old")).toBeUndefined();
    expect(t.hub.get("demo")).toBeDefined();
  });
});

describe("/api/config without a config file", () => {
  it("answers 410 for GET and POST", async () => {
    const t = await makeTestApp({ yaml: "" });
    try {
      const get = await t.app.request("/api/config");
      expect(get.status).toBe(410);
      expect((await get.json()).message).toContain("-c");
      const post = await t.app.request("/api/config", { method: "POST", body: "streams: {}\n" });
      expect(post.status).toBe(410);
    } finally {
      await t.close();
    }
  });
});
