/**
 * A late viewer of a long-GOP camera with audio starts its video at the cached keyframe, seconds in
 * the past; its audio must start at that same moment (lib/core/audio_cache.ts), not live, or the
 * sound would run seconds ahead of the picture. ffmpeg publishes H.264 with a 4 s GOP and AAC into
 * strom; a second viewer of `/api/stream.ts` joins 2-3 s into a GOP and reads what arrives in its
 * first moments: the audio in it must span about as long as the video (the cached GOP).
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { ffprobeJson, hasEncoder } from "../_support/ffmpeg.ts";
import { type LongGopCamera, startLongGopCamera } from "./_long_gop_camera.ts";
import { type OutputServer, waitFor } from "./_server.ts";

const haveX264 = await hasEncoder("libx264");

describe.skipIf(!haveX264)("a late viewer's audio and video start at the same moment (needs libx264)", () => {
  let camera: LongGopCamera;
  let s: OutputServer;

  beforeAll(async () => {
    camera = await startLongGopCamera(100, true);
    s = camera.s;
  }, 30_000);

  afterAll(() => camera?.close(), 30_000);

  const gopFrames = () => {
    const producers = (s.hub.get("cam")?.info().producers ?? []) as { tracks: { media: string; gop_frames: number }[] }[];
    return producers.flatMap((p) => p.tracks).find((t) => t.media === "video")?.gop_frames ?? 0;
  };

  it("/api/stream.ts: the first moments hold as much audio as video", async () => {
    // 2-3 s of the 4 s GOP cached.
    await waitFor("50-75 frames in the GOP cache", () => gopFrames() >= 50 && gopFrames() < 75, 30_000);
    const res = await fetch(`${s.base}/api/stream.ts?src=cam`);
    const reader = res.body!.getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    // What the viewer gets within 300 ms of its first bytes: the replayed caches, then little live.
    let until = 0;
    const stop = setTimeout(() => void reader.cancel().catch(() => {}), 10_000);
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done || !value) break;
        if (!until) until = performance.now() + 300;
        chunks.push(value);
        total += value.length;
        if (performance.now() > until) break;
      }
    } finally {
      clearTimeout(stop);
      await reader.cancel().catch(() => {});
    }
    const bytes = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) (bytes.set(c, at), at += c.length);
    const span = async (stream: string) => {
      const { json } = await ffprobeJson(bytes, ["-f", "mpegts", "-select_streams", stream, "-show_entries", "packet=pts_time"]);
      const times = ((json.packets ?? []) as { pts_time: string }[]).map((p) => Number(p.pts_time));
      return times.length ? Math.max(...times) - Math.min(...times) : 0;
    };
    const video = await span("v");
    const audio = await span("a");
    expect(video).toBeGreaterThan(1.8);
    // Without the audio cache the audio here would span about 0.3 s.
    expect(audio).toBeGreaterThan(video - 0.5);
  }, 60_000);
});
