/**
 * A client that goes away mid-stream releases its viewer exactly once: the stream shows no
 * consumer within a bounded wait, for every streaming output (and the ffmpeg transcoder of MJPEG
 * ends with it).
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { childFfmpegCount, consumerCount, type OutputServer, readSome, startOutputServer, waitFor } from "./_server.ts";

describe("client disconnects", () => {
  let s: OutputServer;

  beforeAll(async () => {
    s = await startOutputServer();
  }, 30_000);

  afterAll(async () => {
    await s?.close();
  }, 30_000);

  for (const path of ["stream.mp4", "stream.ts", "stream.flv", "stream.aac", "stream.mjpeg"]) {
    it(`${path}: cancelling the body removes the viewer`, async () => {
      const res = await fetch(`${s.base}/api/${path}?src=demo`);
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      expect((await reader.read()).value!.length).toBeGreaterThan(0);
      if (path === "stream.mjpeg" && childFfmpegCount() >= 0) expect(childFfmpegCount()).toBe(1);
      await reader.cancel();
      await waitFor("the viewer to leave", () => consumerCount(s.hub, "demo") === 0, 5_000);
      // MJPEG's ffmpeg transcoder ends with its viewer.
      if (childFfmpegCount() >= 0) await waitFor("no ffmpeg child left", () => childFfmpegCount() === 0, 5_000);
    }, 20_000);
  }

  it("aborting the request removes the viewer", async () => {
    const abort = new AbortController();
    const res = await fetch(`${s.base}/api/stream.mp4?src=demo`, { signal: abort.signal });
    const reader = res.body!.getReader();
    await reader.read();
    expect(consumerCount(s.hub, "demo")).toBe(1);
    abort.abort();
    await reader.closed.catch(() => {});
    await waitFor("the viewer to leave", () => consumerCount(s.hub, "demo") === 0, 5_000);
  }, 20_000);

  it("many viewers come and go; none is left behind", async () => {
    const responses = await Promise.all(
      Array.from({ length: 8 }, (_, i) => fetch(`${s.base}/api/stream.${i % 2 ? "ts" : "mp4"}?src=demo`)),
    );
    expect(consumerCount(s.hub, "demo")).toBe(8);
    await Promise.all(responses.map((r) => readSome(r, 500)));
    await waitFor("every viewer to leave", () => consumerCount(s.hub, "demo") === 0, 5_000);
  }, 20_000);
});
