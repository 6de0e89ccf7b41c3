// HTTP ingest routes without a network (app.request): who may push, and the 4xx answers. Real
// ffmpeg pushes are in tests/http_source/ingest_test.ts.
import { describe, expect, it } from "bun:test";
import { loadFixture } from "../../tests/_support/fixtures.ts";
import { makeTestApp } from "../_test_support.ts";
import { ffmpeg } from "../../tests/_support/ffmpeg.ts";
import { hasTool } from "../../tests/_support/process.ts";

const hasFfmpeg = await hasTool("ffmpeg");

const basic = (user: string, pass: string) => ({ authorization: `Basic ${btoa(`${user}:${pass}`)}` });
const yaml =
  'api:\n  username: admin\n  password: "s3cret"\n  auth:\n    users:\n      kiosk: { password: "view", role: viewer }\n' +
  "streams:\n  cam:\n";

describe("POST /api/stream.*?dst=", () => {
  it("a viewer may not push; an admin may; nobody without credentials", async () => {
    const t = await makeTestApp({ yaml, remoteAddress: "192.168.1.20" });
    try {
      const post = (headers: Record<string, string>) =>
        t.app.request("/api/stream.flv?dst=cam", { method: "POST", body: new Uint8Array(0), headers });
      expect((await post({})).status).toBe(401);
      const viewer = await post(basic("kiosk", "view"));
      expect(viewer.status).toBe(403);
      expect((await viewer.json()).message).toContain('User "kiosk"');
      // An admin gets past auth: the empty body is then refused for what it is.
      const admin = await post(basic("admin", "s3cret"));
      expect(admin.status).toBe(415);
      expect((await admin.json()).message).toContain("(empty body)");
    } finally {
      await t.close();
    }
  });

  it.skipIf(!hasFfmpeg)("POST /api/stream?dst= takes ADTS AAC too (told by its syncword)", async () => {
    const t = await makeTestApp({ yaml: "streams:\n  cam:\n" });
    try {
      const ts = new URL("../../lib/format/mpegts/testdata/ffmpeg_h264_aac.mpegts", import.meta.url);
      const adts = await ffmpeg([
        "-i",
        decodeURIComponent(ts.pathname),
        "-vn",
        "-c:a",
        "copy",
        "-f",
        "adts",
        "-",
      ]);
      const res = await t.app.request("/api/stream?dst=cam", {
        method: "POST",
        body: new Uint8Array(adts.stdout),
      });
      expect(res.status).toBe(200);
      expect(t.buffer.text()).toMatch(/ingest started.*adts/);
    } finally {
      await t.close();
    }
  });

  it("POST /api/stream?dst= takes raw H.264 Annex-B", async () => {
    const t = await makeTestApp({ yaml: "streams:\n  cam:\n" });
    try {
      const h264 = await loadFixture(
        new URL("../../lib/codec/h264/testdata/ffmpeg_h264_640x360.h264", import.meta.url),
      );
      const res = await t.app.request("/api/stream?dst=cam", { method: "POST", body: new Uint8Array(h264) });
      expect(res.status).toBe(200);
      expect(t.buffer.text()).toMatch(/ingest started.*h264/);
    } finally {
      await t.close();
    }
  });

  it("a whole FLV file in one request publishes it and answers 200 when it ends", async () => {
    const t = await makeTestApp({ yaml: "streams:\n  cam:\n" });
    try {
      const flv = await loadFixture(
        new URL("../../lib/format/flv/testdata/ffmpeg_h264_aac.flv", import.meta.url),
      );
      const res = await t.app.request("/api/stream?dst=cam", { method: "POST", body: new Uint8Array(flv) });
      expect(res.status).toBe(200);
      expect(t.buffer.text()).toContain("ingest started");
      // The publisher left with the upload.
      expect(t.hub.get("cam")!.producers()).toEqual([]);
    } finally {
      await t.close();
    }
  });
});
