/**
 * Outputs of a stream with other codecs than the demo: ffmpeg publishes H.265 + G.711 A-law into
 * strom's RTSP server (a publisher, as a camera pushing to strom). MP4 carries H.265 and turns PCMA
 * into FLAC; MPEG-TS carries the H.265; snapshots decode H.265; ADTS refuses with 415.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { RtspServer } from "../../lib/protocol/rtsp/server.ts";
import { ffmpeg, hasEncoder } from "../_support/ffmpeg.ts";
import { publish, publishAndWait } from "../rtsp/_helpers.ts";
import { codecsOf, type OutputServer, probeBytes, probeUrl, startOutputServer } from "./_server.ts";

const haveX265 = await hasEncoder("libx265");

describe.skipIf(!haveX265)("outputs of an H.265 + PCMA publisher", () => {
  let s: OutputServer;
  let rtsp: RtspServer;
  let publisher: ReturnType<typeof publish>;

  beforeAll(async () => {
    s = await startOutputServer({ streams: { cam: [] } });
    rtsp = await RtspServer.listen({ hub: s.hub, listen: { hostname: "127.0.0.1", port: 0 } });
    publisher = await publishAndWait(s.hub, "cam", `rtsp://127.0.0.1:${rtsp.addr.port}/cam`, [
      "-f",
      "lavfi",
      "-i",
      "testsrc2=size=320x240:rate=25",
      "-f",
      "lavfi",
      "-i",
      "sine=frequency=440:sample_rate=8000",
      "-c:v",
      "libx265",
      "-preset",
      "ultrafast",
      "-tune",
      "zerolatency",
      "-g",
      "25",
      "-x265-params",
      "log-level=error",
      "-c:a",
      "pcm_alaw",
      "-ar",
      "8000",
      "-ac",
      "1",
    ], 15_000);
  }, 30_000);

  afterAll(async () => {
    publisher?.kill("SIGKILL");
    await publisher?.exited;
    await rtsp?.close();
    await s?.close();
  }, 30_000);

  it("/api/stream.mp4: H.265 video and PCMA written as FLAC", async () => {
    const res = await fetch(`${s.base}/api/stream.mp4?src=cam&duration=2`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^video\/mp4; codecs="hvc1\.[^"]*,flac"$/);
    const probe = await probeBytes(new Uint8Array(await res.arrayBuffer()));
    expect(probe.stderr).toBe("");
    const streams = codecsOf(probe);
    expect(streams.map((x) => x.codec).sort()).toEqual(["flac", "hevc"]);
    expect(streams.every((x) => x.frames > 0)).toBe(true);
    expect(streams.find((x) => x.codec === "hevc")!.width).toBe(320);
  }, 20_000);

  it("?mp4 asks for AAC only (none here: video alone); ?mp4=flac adds the FLAC track", async () => {
    const plain = codecsOf(await probeUrl(`${s.base}/api/stream.mp4?src=cam&duration=1&mp4`));
    expect(plain.map((x) => x.codec)).toEqual(["hevc"]);
    const flac = codecsOf(await probeUrl(`${s.base}/api/stream.mp4?src=cam&duration=1&mp4=flac`));
    expect(flac.map((x) => x.codec).sort()).toEqual(["flac", "hevc"]);
  }, 20_000);

  it("/api/stream.ts carries the H.265 (PCMA has no MPEG-TS mapping)", async () => {
    const probe = await probeUrl(`${s.base}/api/stream.ts?src=cam&duration=2`);
    expect(probe.stderr).toBe("");
    const streams = codecsOf(probe);
    expect(streams.map((x) => x.codec)).toEqual(["hevc"]);
    expect(streams[0].frames).toBeGreaterThan(10);
  }, 20_000);

  it("HLS (TS) of H.265 plays in ffmpeg", async () => {
    const res = await ffmpeg(
      ["-i", `${s.base}/api/stream.m3u8?src=cam`, "-t", "2", "-f", "null", "-"],
      30_000,
    );
    expect(res.timedOut).toBe(false);
    expect(res.code).toBe(0);
  }, 30_000);

  it("/api/frame.jpeg decodes an H.265 keyframe", async () => {
    const res = await fetch(`${s.base}/api/frame.jpeg?src=cam`);
    expect(res.status).toBe(200);
    const [v] = codecsOf(await probeBytes(new Uint8Array(await res.arrayBuffer()), "jpeg_pipe"));
    expect(v).toMatchObject({ codec: "mjpeg", width: 320, height: 240 });
  }, 20_000);

  it("/api/stream.mjpeg transcodes H.265", async () => {
    const res = await fetch(`${s.base}/api/stream.mjpeg?src=cam&duration=2`);
    expect(res.status).toBe(200);
    const [v] = codecsOf(await probeBytes(new Uint8Array(await res.arrayBuffer()), "mpjpeg"));
    expect(v.codec).toBe("mjpeg");
    expect(v.frames).toBeGreaterThan(10);
  }, 20_000);

  it("/api/stream.aac on a stream without AAC: 415 naming what the stream has", async () => {
    const res = await fetch(`${s.base}/api/stream.aac?src=cam`);
    expect(res.status).toBe(415);
    const body = await res.json();
    expect(body.message).toContain("audio:PCMA/8000");
    expect(body.message).toContain("audio:MPEG4-GENERIC");
    // The refused viewer is not left attached (an HLS session of an earlier test may still be).
    const formats = (s.hub.get("cam")!.info().consumers as { format: string }[]).map((c) => c.format);
    expect(formats).not.toContain("adts");
  }, 20_000);
});
