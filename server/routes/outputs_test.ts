import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { makeTestApp, type TestApp } from "../_test_support.ts";
import { parseDurationMs, streamAllowed } from "./output_common.ts";

describe("output routes without a network (app.request)", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await makeTestApp({ yaml: "streams:\n  demo: \"demo:\"\n" });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("streams the demo as MPEG-TS and releases the viewer when the body is cancelled", async () => {
    const res = await t.app.request("/api/stream.ts?src=demo");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("video/mp2t");
    const reader = res.body!.getReader();
    const { value } = await reader.read();
    expect(value![0]).toBe(0x47);
    expect(t.hub.get("demo")!.info().consumers.length).toBe(1);
    await reader.cancel();
    const deadline = Date.now() + 2000;
    while (t.hub.get("demo")!.info().consumers.length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(t.hub.get("demo")!.info().consumers.length).toBe(0);
  });

  it("404 names the stream; 415 names the codecs", async () => {
    const missing = await t.app.request("/api/stream.flv?src=garage");
    expect(missing.status).toBe(404);
    expect((await missing.json()).message).toContain('"garage"');
    const mismatch = await t.app.request("/api/stream.mp4?src=demo&video=vp9&audio=opus");
    expect(mismatch.status).toBe(415);
    expect((await mismatch.json()).message).toMatch(/video:H264.*audio:MPEG4-GENERIC|audio:MPEG4-GENERIC.*video:H264/);
  });

  it("Safari without duration= is sent to HLS (fMP4), as go2rtc does", async () => {
    const res = await t.app.request("/api/stream.mp4?src=demo", {
      headers: { "user-agent": "Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15" },
    });
    expect(res.status).toBe(301);
    expect(res.headers.get("location")).toBe("stream.m3u8?src=demo&mp4=");
  });
});

describe("output route helpers", () => {
  it("parses go2rtc durations", () => {
    expect(parseDurationMs("10")).toBe(10_000);
    expect(parseDurationMs("10s")).toBe(10_000);
    expect(parseDurationMs("1.5s")).toBe(1500);
    expect(parseDurationMs("2m")).toBe(120_000);
    expect(parseDurationMs("250ms")).toBe(250);
    expect(parseDurationMs("soon")).toBeUndefined();
    expect(parseDurationMs(null)).toBeUndefined();
  });

  it("matches stream access patterns with wildcards", () => {
    expect(streamAllowed([], "anything")).toBe(true);
    expect(streamAllowed(["front_*"], "front_door")).toBe(true);
    expect(streamAllowed(["front_*"], "back_door")).toBe(false);
    expect(streamAllowed(["a.b"], "axb")).toBe(false);
  });
});
