/**
 * Edge mode (issue 13): a strom with `edge.origin` pulls its streams from a central strom and keeps
 * its viewers through an origin outage. Real peers: the origin is a strom process serving the `demo:`
 * clip, the edge another strom process (no NATS needed), the viewer ffmpeg.
 *
 * The tests share the two processes and run in order: the second starts from the state the first
 * leaves (origin back up, its viewer still watching the edge).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { freePort } from "../_support/net.ts";
import { hasTool } from "../_support/process.ts";
import { codecsOf, probeBytes, readSome } from "../outputs/_server.ts";
import { demoCamera, Reader, sleep, StromProc, tempDir, until } from "./_cluster.ts";

const hasFfmpeg = await hasTool("ffmpeg");

describe.skipIf(!hasFfmpeg)("edge (needs ffmpeg)", () => {
  const dir = tempDir();
  let origin: StromProc;
  let edge: StromProc;
  let reader: Reader | undefined;

  beforeAll(async () => {
    const [eApi, eRtsp] = [await freePort(), await freePort()];
    origin = await demoCamera(dir.path, "origin");
    edge = new StromProc("edge", dir.path, [
      `api: {listen: "127.0.0.1:${eApi}"}`,
      `rtsp: {listen: "127.0.0.1:${eRtsp}"}`,
      `webrtc: {listen: ""}`,
      // Debug and RTSP signalling, so a failure below can show what the edge did (reconnect attempts,
      // the late viewer's requests).
      `log: {level: debug, format: text, rtsp: trace}`,
      // No sources of its own: the edge reads rtsp://<origin>/cam.
      `streams: {cam: }`,
      `edge: {origin: "rtsp://127.0.0.1:${origin.rtspPort}"}`,
      ``,
    ].join("\n"), eApi, eRtsp);
    await Promise.all([origin.start(), edge.start()]);
  }, 90_000);

  afterAll(async () => {
    await reader?.stop();
    await Promise.allSettled([edge?.stop("SIGKILL"), origin?.stop("SIGKILL")]);
    dir.cleanup();
  }, 30_000);

  test("the edge serves the origin's stream and keeps its viewer through a 5 s origin outage", async () => {
    const streams = await edge.json<Record<string, { sources: string[] }>>("/api/streams");
    expect(streams.cam.sources).toEqual([origin.rtsp("cam")]);
    reader = new Reader(edge.rtsp("cam"));
    await reader.grows(30, 30_000);
    expect(await origin.consumers("cam")).toBe(1);

    await origin.stop("SIGKILL");
    const atOutage = reader.frames();
    await sleep(5000);
    // The viewer is still connected to the edge during the outage.
    expect(reader.proc.exited).toBe(false);
    await origin.start();
    // The edge reconnects on its own and the same viewer decodes new frames.
    await reader.grows(40, 45_000, atOutage);
    expect(reader.proc.exited).toBe(false);
    await until("the edge to pull once from the restarted origin", 10_000, async () => (await origin.consumers("cam")) === 1);
  }, 120_000);

  test("a viewer arriving during a 5 s origin outage gets the held picture at once, then live frames", async () => {
    // Someone watches the edge, so it has the stream (and its last GOP) when the origin drops.
    reader ??= new Reader(edge.rtsp("cam"));
    await reader.grows(10, 30_000);
    // Drop the origin with a few frames after the keyframe in the edge's GOP cache.
    await until("a few frames in the edge's GOP cache", 10_000, async () => {
      const streams = await edge.json<Record<string, { producers: { tracks: { media: string; gop_frames: number }[] }[] }>>("/api/streams");
      return (streams.cam.producers[0]?.tracks.find((t) => t.media === "video")?.gop_frames ?? 0) >= 5;
    }, 50);
    await origin.stop("SIGKILL");
    const downAt = Date.now();
    await until("the edge to hold the dropped origin's state", 5_000, async () => {
      const streams = await edge.json<Record<string, { producers: { holding?: boolean }[] }>>("/api/streams");
      return streams.cam.producers[0]?.holding === true;
    });

    // RTSP: a new ffmpeg reader decodes the held GOP while the origin is still down. It reads as a
    // low-latency player does (`-probesize 32 -threads 1`): with ffmpeg's default probing it shows
    // nothing until it has seen 20 video frames and an audio frame, more than a held GOP (video
    // only) may have, and frame threads hold back the last frames; it would then start at the
    // origin's return instead (still attached, no 503).
    const late = new Reader(edge.rtsp("cam"), ["-probesize", "32", "-threads", "1"]);
    try {
      // The origin stays down until this viewer has its first frame (edge.hold is 30 s), so a frame
      // here can only be the held one. 20 s, not 4: ffmpeg's start, RTSP set-up and first decode
      // took longer than 4 s once on a loaded 2-core CI machine (Deno). On a loaded machine a new
      // keyframe can also arrive between the GOP check above and the kill, leaving a held GOP of
      // one frame, which ffmpeg showed only once the origin was back (its parser waits for the next
      // frame); strom ends that frame now (tests/rtsp/held_keyframe_test.ts).
      await late.grows(1, 20_000).catch((error) => {
        throw new Error(`${(error as Error).message}\nthe edge's last log lines:\n${edge.proc?.output().slice(-6000)}`);
      });
      // Snapshot: the held keyframe as a JPEG.
      const jpeg = await fetch(`${edge.api}/api/frame.jpeg?src=cam`, { signal: AbortSignal.timeout(10_000) });
      expect(jpeg.status).toBe(200);
      const [picture] = codecsOf(await probeBytes(new Uint8Array(await jpeg.arrayBuffer()), "jpeg_pipe"));
      expect(picture.codec).toBe("mjpeg");
      expect(picture.width).toBeGreaterThan(0);
      // MP4 (what MSE plays): the held GOP, decodable.
      const mp4 = await fetch(`${edge.api}/api/stream.mp4?src=cam&video`, { signal: AbortSignal.timeout(10_000) });
      expect(mp4.status).toBe(200);
      const held = codecsOf(await probeBytes(await readSome(mp4, 8 << 20, 1_500), "mp4"));
      expect(held.find((s) => s.type === "video")?.frames ?? 0).toBeGreaterThan(0);
      // HLS: the session opens instead of a 503.
      const hls = await fetch(`${edge.api}/api/stream.m3u8?src=cam`, { signal: AbortSignal.timeout(10_000) });
      expect(hls.status).toBe(200);
      expect(await hls.text()).toContain("#EXTM3U");

      // The rest of the 5 s outage: the late viewer stays attached.
      await sleep(Math.max(0, 5_000 - (Date.now() - downAt)));
      expect(late.proc.exited).toBe(false);
      const atReturn = late.frames();
      await origin.start();
      // The edge reconnects and the late viewer goes on decoding live frames.
      await late.grows(40, 45_000, atReturn);
      expect(late.proc.exited).toBe(false);
      // Held frames then live ones: the decoder never complained (no broken references). ffmpeg's
      // null muxer once (Bun, CI) reported one repeated DTS between the held GOP and the live frames
      // of the restarted origin, whose own first frames come from a camera that reconnected to it:
      // that muxer notice is not a decoding error, so it is not asserted here (reported).
      expect(late.proc.output()).not.toMatch(/error while decoding|decode_slice_header|no frame!|concealing/i);
      const streams = await edge.json<Record<string, { producers: { holding?: boolean; state: string }[] }>>("/api/streams");
      expect(streams.cam.producers[0]).toMatchObject({ state: "running" });
      expect(streams.cam.producers[0].holding).toBeUndefined();
    } finally {
      await late.stop();
    }
  }, 120_000);
});
