import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeTestApp, type TestApp } from "../_test_support.ts";
import { WEB_ASSETS } from "../web/assets.ts";

describe("web UI routes", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await makeTestApp({ yaml: "streams:\n  demo: \"demo:\"\n" });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("serves index.html at / and the embedded files by name", async () => {
    const index = await t.app.request("/");
    expect(index.status).toBe(200);
    expect(index.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await index.text()).toBe(WEB_ASSETS["index.html"].body);
    const js = await t.app.request("/video-stream.js");
    expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(await js.text()).toContain("customElements.define");
    expect((await t.app.request("/stream.html?src=demo")).status).toBe(200);
  });

  it("unknown files and path tricks fall through to 404; API routes are not shadowed", async () => {
    expect((await t.app.request("/nope.html")).status).toBe(404);
    expect((await t.app.request("/..%2Fpackage.json")).status).toBe(404);
    expect((await t.app.request("/api/health")).status).toBe(200);
    expect((await t.app.request("/favicon.ico")).status).toBe(204);
  });

  it("the embedded assets are up to date with server/web/ (run node scripts/embed_web.mjs)", async () => {
    const { readFileSync } = await import("node:fs");
    for (const name of Object.keys(WEB_ASSETS)) {
      expect(readFileSync(new URL(`../web/${name}`, import.meta.url), "utf8")).toBe(WEB_ASSETS[name].body);
    }
  });
});

describe("api.static_dir", () => {
  let t: TestApp;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "strom-static-"));
    writeFileSync(join(dir, "index.html"), "<h1>custom</h1>");
    t = await makeTestApp({ yaml: `api:\n  static_dir: ${JSON.stringify(dir)}\n` });
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves files from the folder first, the embedded ones otherwise", async () => {
    expect(await (await t.app.request("/")).text()).toBe("<h1>custom</h1>");
    expect(await (await t.app.request("/style.css")).text()).toBe(WEB_ASSETS["style.css"].body);
  });
});
