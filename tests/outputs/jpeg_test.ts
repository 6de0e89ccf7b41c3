/**
 * `/api/frame.jpeg`: H.264 keyframe -> JPEG through a one-shot ffmpeg; from the GOP cache when the
 * stream runs (told by the `X-Frame-Source` header, not by timing), from a fresh keyframe when it
 * does not, from the JPEG cache with `cache=`; sizes and rotation.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { codecsOf, type OutputServer, probeBytes, readSome, startOutputServer } from "./_server.ts";

describe("/api/frame.jpeg", () => {
  let s: OutputServer;

  beforeAll(async () => {
    s = await startOutputServer({ streams: { demo: "demo:", cold: "demo:", mp4cold: "demo:" } });
  }, 30_000);

  afterAll(async () => {
    await s?.close();
  }, 30_000);

  const jpegSize = async (res: Response) => {
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/jpeg");
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect([bytes[0], bytes[1]]).toEqual([0xff, 0xd8]);
    const probe = await probeBytes(bytes, "jpeg_pipe");
    expect(probe.stderr).toBe("");
    const [v] = codecsOf(probe);
    expect(v.codec).toBe("mjpeg");
    return { width: v.width, height: v.height };
  };

  it("a stopped stream: starts it and waits for a keyframe; then answers from the GOP cache", async () => {
    const first = await fetch(`${s.base}/api/frame.jpeg?src=cold`);
    expect(first.headers.get("x-frame-source")).toBe("live");
    expect(await jpegSize(first)).toEqual({ width: 640, height: 360 });
    // The source keeps running for the grace period: the next snapshot comes from its GOP cache.
    const second = await fetch(`${s.base}/api/frame.jpeg?src=cold`);
    expect(second.headers.get("x-frame-source")).toBe("gop-cache");
    expect(await jpegSize(second)).toEqual({ width: 640, height: 360 });
  }, 20_000);

  it("a running stream (a viewer attached) answers from the GOP cache", async () => {
    const viewer = await fetch(`${s.base}/api/stream.ts?src=demo`);
    try {
      await readSome(viewer, 50_000);
      const res = await fetch(`${s.base}/api/frame.jpeg?src=demo`);
      expect(res.headers.get("x-frame-source")).toBe("gop-cache");
      await jpegSize(res);
    } finally {
      await viewer.body?.cancel().catch(() => {});
    }
  }, 20_000);

  it("cache= serves a recent JPEG without encoding again", async () => {
    await (await fetch(`${s.base}/api/frame.jpeg?src=demo&w=160`)).arrayBuffer();
    const res = await fetch(`${s.base}/api/frame.jpeg?src=demo&w=160&cache=10s`);
    expect(res.headers.get("x-frame-source")).toBe("jpeg-cache");
    expect(await jpegSize(res)).toEqual({ width: 160, height: 90 });
  }, 20_000);

  it("width/w, height/h and rotate resize and turn the picture", async () => {
    expect(await jpegSize(await fetch(`${s.base}/api/frame.jpeg?src=demo&width=320`))).toEqual({ width: 320, height: 180 });
    expect(await jpegSize(await fetch(`${s.base}/api/frame.jpeg?src=demo&h=90`))).toEqual({ width: 160, height: 90 });
    expect(await jpegSize(await fetch(`${s.base}/api/frame.jpeg?src=demo&w=200&h=100`))).toEqual({ width: 200, height: 100 });
    expect(await jpegSize(await fetch(`${s.base}/api/frame.jpeg?src=demo&rotate=90`))).toEqual({ width: 360, height: 640 });
    expect(await jpegSize(await fetch(`${s.base}/api/frame.jpeg?src=demo&rotate=180`))).toEqual({ width: 640, height: 360 });
    expect(await jpegSize(await fetch(`${s.base}/api/frame.jpeg?src=demo&rotate=270&w=320`))).toEqual({ width: 180, height: 320 });
  }, 30_000);

  it("/api/frame.mp4 also reports where its keyframe came from", async () => {
    const first = await fetch(`${s.base}/api/frame.mp4?src=mp4cold`);
    expect(first.headers.get("x-frame-source")).toBe("live");
    await first.arrayBuffer();
    const second = await fetch(`${s.base}/api/frame.mp4?src=mp4cold`);
    expect(second.headers.get("x-frame-source")).toBe("gop-cache");
    await second.arrayBuffer();
  }, 20_000);
});
