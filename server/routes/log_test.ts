import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { makeTestApp, type TestApp } from "../_test_support.ts";

describe("/api/log", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await makeTestApp();
  });
  afterAll(() => t.close());

  it("GET returns recent lines as JSON lines, with URL passwords masked", async () => {
    t.ctx.log.info("dialing", { url: "rtsp://admin:secret@10.0.0.5/1" });
    const res = await t.app.request("/api/log");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/jsonlines");
    const text = await res.text();
    expect(text).not.toContain("secret");
    const lines = text.trimEnd().split("\n").map((l) => JSON.parse(l));
    const last = lines[lines.length - 1];
    expect(last.msg).toBe("dialing");
    expect(last.url).toBe("rtsp://admin:***@10.0.0.5/1");
  });

  it("DELETE clears the buffer", async () => {
    t.ctx.log.info("something");
    const del = await t.app.request("/api/log", { method: "DELETE" });
    expect(del.status).toBe(204);
    expect(await (await t.app.request("/api/log")).text()).toBe("");
  });
});
