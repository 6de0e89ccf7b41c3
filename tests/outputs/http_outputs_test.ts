/**
 * Every HTTP output of the demo stream (H.264 640x360 + AAC 48 kHz) over real HTTP from a server
 * on port 0, validated by ffprobe: codecs, frame counts, no decoder complaints. Plus the error
 * answers: unknown stream 404, a codec the output cannot carry 415.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { codecsOf, consumerCount, type OutputServer, probeBytes, probeUrl, startOutputServer, waitFor } from "./_server.ts";

describe("HTTP outputs of the demo stream", () => {
  let s: OutputServer;

  beforeAll(async () => {
    s = await startOutputServer({
      streams: {
        demo: "demo:",
        // Video only, JPEG: nothing MP4/TS/AAC can carry.
        jpegcam: "exec:ffmpeg -hide_banner -loglevel error -re -f lavfi -i testsrc2=size=320x240:rate=10 -c:v mjpeg -q:v 7 -f mjpeg -",
      },
    });
  }, 30_000);

  afterAll(async () => {
    await s?.close();
  }, 30_000);

  it("/api/stream.mp4: fragmented MP4 with H.264 + AAC; duration= ends it; filename= makes it an attachment", async () => {
    const res = await fetch(`${s.base}/api/stream.mp4?src=demo&duration=2&filename=demo.mp4`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe('video/mp4; codecs="avc1.42c01e,mp4a.40.2"');
    expect(res.headers.get("content-disposition")).toBe('attachment; filename="demo.mp4"');
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(new TextDecoder().decode(bytes.subarray(4, 8))).toBe("ftyp");
    const probe = await probeBytes(bytes);
    expect(probe.stderr).toBe("");
    const streams = codecsOf(probe);
    expect(streams.map((x) => x.codec).sort()).toEqual(["aac", "h264"]);
    const video = streams.find((x) => x.codec === "h264")!;
    expect(video.width).toBe(640);
    expect(video.height).toBe(360);
    expect(video.frames).toBeGreaterThan(25);
    expect(streams.find((x) => x.codec === "aac")!.frames).toBeGreaterThan(40);
    await waitFor("the mp4 viewer to leave", () => consumerCount(s.hub, "demo") === 0, 5_000);
  }, 20_000);

  it("/api/stream.mp4 probed by ffprobe over HTTP", async () => {
    const probe = await probeUrl(`${s.base}/api/stream.mp4?src=demo&duration=1`);
    expect(probe.stderr).toBe("");
    expect(codecsOf(probe).every((x) => x.frames > 0)).toBe(true);
  }, 20_000);

  it("/api/stream.mp4?video=h264 leaves the audio out; ?mp4 keeps H.264 + AAC", async () => {
    const videoOnly = codecsOf(await probeUrl(`${s.base}/api/stream.mp4?src=demo&duration=1&video=h264`));
    expect(videoOnly.map((x) => x.codec)).toEqual(["h264"]);
    const mp4 = codecsOf(await probeUrl(`${s.base}/api/stream.mp4?src=demo&duration=1&mp4`));
    expect(mp4.map((x) => x.codec).sort()).toEqual(["aac", "h264"]);
  }, 20_000);

  it("/api/stream.ts: MPEG-TS with H.264 + AAC", async () => {
    const probe = await probeUrl(`${s.base}/api/stream.ts?src=demo&duration=2`);
    expect(probe.stderr).toBe("");
    expect(probe.format?.format_name).toBe("mpegts");
    const streams = codecsOf(probe);
    expect(streams.map((x) => x.codec).sort()).toEqual(["aac", "h264"]);
    expect(streams.every((x) => x.frames > 0)).toBe(true);
  }, 20_000);

  it("/api/stream.flv: FLV with H.264 + AAC", async () => {
    const probe = await probeUrl(`${s.base}/api/stream.flv?src=demo&duration=2`);
    expect(probe.stderr).toBe("");
    expect(probe.format?.format_name).toBe("flv");
    const streams = codecsOf(probe);
    expect(streams.map((x) => x.codec).sort()).toEqual(["aac", "h264"]);
    expect(streams.every((x) => x.frames > 0)).toBe(true);
  }, 20_000);

  it("/api/stream.aac: ADTS with the AAC track only", async () => {
    const res = await fetch(`${s.base}/api/stream.aac?src=demo&duration=2`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("audio/aac");
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(bytes[0]).toBe(0xff);
    expect(bytes[1] & 0xf0).toBe(0xf0);
    const probe = await probeBytes(bytes, "aac");
    expect(probe.stderr).toBe("");
    const streams = codecsOf(probe);
    expect(streams.map((x) => x.codec)).toEqual(["aac"]);
    expect(streams[0].frames).toBeGreaterThan(40);
  }, 20_000);

  it("/api/stream.mjpeg: H.264 transcoded through ffmpeg into multipart JPEGs", async () => {
    const res = await fetch(`${s.base}/api/stream.mjpeg?src=demo&duration=2&w=320`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("multipart/x-mixed-replace; boundary=frame");
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(new TextDecoder().decode(bytes.subarray(0, 40))).toContain("--frame\r\nContent-Type: image/jpeg");
    const probe = await probeBytes(bytes, "mpjpeg");
    const streams = codecsOf(probe);
    expect(streams[0].codec).toBe("mjpeg");
    expect(streams[0].width).toBe(320);
    expect(streams[0].frames).toBeGreaterThan(10);
    await waitFor("the mjpeg viewer to leave", () => consumerCount(s.hub, "demo") === 0, 5_000);
  }, 20_000);

  it("/api/stream.mjpeg of a JPEG source passes the camera's JPEGs through", async () => {
    const res = await fetch(`${s.base}/api/stream.mjpeg?src=jpegcam&duration=2`);
    expect(res.status).toBe(200);
    const probe = await probeBytes(new Uint8Array(await res.arrayBuffer()), "mpjpeg");
    const streams = codecsOf(probe);
    expect(streams[0].codec).toBe("mjpeg");
    expect(streams[0].width).toBe(320);
    expect(streams[0].frames).toBeGreaterThan(5);
  }, 20_000);

  it("/api/frame.mp4: one keyframe as a complete MP4", async () => {
    const res = await fetch(`${s.base}/api/frame.mp4?src=demo`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("video/mp4");
    const probe = await probeBytes(new Uint8Array(await res.arrayBuffer()));
    expect(probe.stderr).toBe("");
    expect(codecsOf(probe)).toEqual([{ codec: "h264", type: "video", frames: 1, width: 640, height: 360 }]);
  }, 20_000);

  it("unknown src: 404 naming the stream, on every output", async () => {
    for (const path of ["stream.mp4", "stream.ts", "stream.flv", "stream.aac", "stream.mjpeg", "stream.m3u8", "frame.jpeg", "frame.mp4"]) {
      const res = await fetch(`${s.base}/api/${path}?src=nosuchcam`);
      expect(res.status).toBe(404);
      const body = await res.json();
      expect(body.error).toBe("StreamNotFoundError");
      expect(body.message).toContain('"nosuchcam"');
    }
    const missing = await fetch(`${s.base}/api/stream.mp4`);
    expect(missing.status).toBe(400);
    expect((await missing.json()).message).toContain("src=");
  }, 20_000);

  it("a codec the output cannot carry: 415 naming the codecs", async () => {
    const aac = await fetch(`${s.base}/api/stream.aac?src=jpegcam`);
    expect(aac.status).toBe(415);
    const body = await aac.json();
    expect(body.error).toBe("CodecMismatchError");
    expect(body.message).toContain("MPEG4-GENERIC");
    expect(body.message).toContain("JPEG");
    const mp4 = await fetch(`${s.base}/api/stream.mp4?src=jpegcam`);
    expect(mp4.status).toBe(415);
    expect((await mp4.json()).message).toContain("video:JPEG");
    await waitFor("no viewer left on jpegcam", () => consumerCount(s.hub, "jpegcam") === 0, 5_000);
  }, 20_000);
});
