/**
 * Instant start with a long-GOP camera (issue 9): ffmpeg publishes H.264 with a 10 s GOP at 25 fps
 * (`-g 250`, no scene-cut keyframes) into strom's RTSP server and a first viewer watches; once the
 * GOP cache holds more frames than a viewer's queue (128), a second viewer of `/api/stream.ts` must
 * start from the cached keyframe at once and get the whole cached GOP, instead of waiting up to 10 s
 * for the camera's next keyframe.
 *
 * "At once" is measured in camera frames, not wall-clock time: the viewer's first bytes must come
 * before the camera sent 25 more frames (1 s; the broken behaviour waited for frame 250 of the GOP,
 * at least 50 frames later here). ffprobe then reads the viewer's bytes: keyframe first, the whole
 * cached GOP (over 128 frames), one frame every 40 ms with none missing.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { RtspServer } from "../../lib/protocol/rtsp/server.ts";
import { ffprobeJson, hasEncoder } from "../_support/ffmpeg.ts";
import { LAVFI_VIDEO, publish, publishAndWait } from "../rtsp/_helpers.ts";
import { type OutputServer, startOutputServer, waitFor } from "./_server.ts";

const haveX264 = await hasEncoder("libx264");

describe.skipIf(!haveX264)("a late viewer of a camera with a 10 s GOP (needs ffmpeg with libx264)", () => {
  let s: OutputServer;
  let rtsp: RtspServer;
  let publisher: ReturnType<typeof publish> | undefined;
  let firstViewer: ReadableStreamDefaultReader<Uint8Array> | undefined;

  beforeAll(async () => {
    s = await startOutputServer({ streams: { cam: [] } });
    rtsp = await RtspServer.listen({ hub: s.hub, listen: { hostname: "127.0.0.1", port: 0 } });
    publisher = await publishAndWait(s.hub, "cam", `rtsp://127.0.0.1:${rtsp.addr.port}/cam`, [
      ...LAVFI_VIDEO,
      "-c:v",
      "libx264",
      "-preset",
      "ultrafast",
      "-tune",
      "zerolatency",
      "-g",
      "250",
      "-keyint_min",
      "250",
      "-sc_threshold",
      "0",
    ], 15_000);
    // The first viewer: the publisher's tracks (and their GOP cache) exist while someone watches.
    const res = await fetch(`${s.base}/api/stream.ts?src=cam`);
    firstViewer = res.body!.getReader();
    (async () => {
      while (!(await firstViewer!.read()).done) { /* discard */ }
    })().catch(() => {});
  }, 30_000);

  afterAll(async () => {
    await firstViewer?.cancel().catch(() => {});
    publisher?.kill("SIGKILL");
    await publisher?.exited;
    await rtsp?.close();
    await s?.close();
  }, 30_000);

  /** The camera's video track as `/api/streams` shows it. */
  const camera = () => {
    const producers = (s.hub.get("cam")?.info().producers ?? []) as {
      tracks: { media: string; frames: number; bytes: number; gop_frames: number }[];
    }[];
    const track = producers.flatMap((p) => p.tracks).find((t) => t.media === "video");
    if (!track) throw new Error("the publisher has no video track");
    return track;
  };
  /** The second viewer's drops, as `/api/streams` shows them. */
  const secondViewerDrops = () => ((s.hub.get("cam")!.info().consumers as { drops?: number }[])[1]?.drops ?? -1);

  it("/api/stream.ts starts from the cached keyframe at once and gets the whole cached GOP", async () => {
    // 150 cached frames: more than the 128 a viewer's queue holds, 100 frames before the next keyframe.
    await waitFor("150 frames in the GOP cache", () => camera().gop_frames >= 150, 20_000);
    const atConnect = camera();
    expect(atConnect.gop_frames).toBeLessThan(200); // still far from the next keyframe (frame 250)
    const cached = atConnect.gop_frames;
    // The cached GOP's bytes and some: the camera's average frame is about the GOP's (one keyframe
    // so far), and the live frames after the GOP are smaller; TS adds its headers on top.
    const wanted = Math.ceil(cached * 1.1 * (atConnect.bytes / atConnect.frames));

    const res = await fetch(`${s.base}/api/stream.ts?src=cam`);
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    let framesAtFirstBytes = -1;
    let drops = -1;
    const timer = setTimeout(() => reader.cancel().catch(() => {}), 20_000);
    try {
      while (total < wanted) {
        const { value, done } = await reader.read();
        if (done) break;
        if (framesAtFirstBytes < 0) framesAtFirstBytes = camera().frames;
        chunks.push(value);
        total += value.length;
      }
      drops = secondViewerDrops();
    } finally {
      clearTimeout(timer);
      await reader.cancel().catch(() => {});
    }
    expect(total).toBeGreaterThanOrEqual(wanted);
    // First bytes before the camera sent one more second of frames (it sends 25 a second).
    expect(framesAtFirstBytes - atConnect.frames).toBeLessThan(25);
    expect(drops).toBe(0);

    const bytes = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      bytes.set(c, at);
      at += c.length;
    }
    const { json } = await ffprobeJson(bytes, ["-f", "mpegts", "-select_streams", "v", "-show_entries", "packet=pts,flags"]);
    const packets = (json.packets ?? []) as { pts: number; flags: string }[];
    expect(packets.length).toBeGreaterThanOrEqual(cached); // > 128, the queue's capacity
    expect(packets[0].flags).toContain("K");
    // The cached GOP whole: one frame every 3600 ticks (40 ms), none missing, no other keyframe.
    const steps = new Set(packets.slice(1).map((p, i) => p.pts - packets[i].pts));
    expect([...steps]).toEqual([3600]);
    expect(packets.slice(1).some((p) => p.flags.includes("K"))).toBe(false);
  }, 60_000);
});
