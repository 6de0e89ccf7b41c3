/**
 * Instant start with a long-GOP camera (issue 9): ffmpeg publishes H.264 with a 10 s GOP at 25 fps
 * (`-g 250`, no scene-cut keyframes) into strom's RTSP server and a first viewer watches; once the
 * GOP cache holds more frames than a viewer's queue (128), a second viewer of `/api/stream.ts` must
 * start from the cached keyframe at once and get the whole cached GOP, instead of waiting up to 10 s
 * for the camera's next keyframe: over HTTP (`/api/stream.ts`) and as MSE over `/api/ws` (the
 * viewer of the report).
 *
 * "At once" is measured in camera frames, not wall-clock time: the viewer's first bytes must come
 * before the camera sent 25 more frames (1 s; the broken behaviour waited for frame 250 of the GOP,
 * at least 50 frames later here). ffprobe then reads the viewer's bytes: keyframe first, the whole
 * cached GOP (over 128 frames), one frame every 40 ms with none missing.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { ffprobeJson, hasEncoder } from "../_support/ffmpeg.ts";
import { type LongGopCamera, startLongGopCamera } from "./_long_gop_camera.ts";
import { type OutputServer, waitFor } from "./_server.ts";

const haveX264 = await hasEncoder("libx264");

describe.skipIf(!haveX264)("a late viewer of a camera with a 10 s GOP (needs ffmpeg with libx264)", () => {
  let publisher: LongGopCamera;
  let s: OutputServer;

  beforeAll(async () => {
    publisher = await startLongGopCamera(250);
    s = publisher.s;
  }, 30_000);

  afterAll(() => publisher?.close(), 30_000);

  /** The camera's video track as `/api/streams` shows it. */
  const camera = () => {
    const producers = (s.hub.get("cam")?.info().producers ?? []) as {
      tracks: { media: string; frames: number; bytes: number; gop_frames: number }[];
    }[];
    const track = producers.flatMap((p) => p.tracks).find((t) => t.media === "video");
    if (!track) throw new Error("the publisher has no video track");
    return track;
  };
  /** The newest viewer's drops, as `/api/streams` shows them. */
  const newestViewerDrops = () => ((s.hub.get("cam")!.info().consumers as { drops?: number }[]).at(-1)?.drops ?? -1);

  /**
   * Connects a second viewer once the GOP cache holds 150 frames (more than the 128 a viewer's queue
   * holds, 50-100 frames before the camera's next keyframe), reads about the cached GOP's bytes and
   * checks what it got with ffprobe.
   */
  const lateViewer = async (connect: () => Promise<Viewer>, format: string) => {
    await waitFor("150 frames in the GOP cache", () => {
      const g = camera().gop_frames;
      return g >= 150 && g < 200;
    }, 30_000);
    const atConnect = camera();
    const cached = atConnect.gop_frames;
    // The cached GOP's bytes and some: the camera's average frame is about the GOP's (one keyframe
    // so far), and the live frames after the GOP are smaller; the container adds its headers on top.
    const wanted = Math.ceil(cached * 1.1 * (atConnect.bytes / atConnect.frames));

    const viewer = await connect();
    const chunks: Uint8Array[] = [];
    let total = 0;
    let framesAtFirstBytes = -1;
    let drops = -1;
    const timer = setTimeout(() => viewer.close(), 20_000);
    try {
      while (total < wanted) {
        const chunk = await viewer.next();
        if (!chunk) break;
        if (framesAtFirstBytes < 0) framesAtFirstBytes = camera().frames;
        chunks.push(chunk);
        total += chunk.length;
      }
      drops = newestViewerDrops();
    } finally {
      clearTimeout(timer);
      viewer.close();
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
    const { json } = await ffprobeJson(bytes, ["-f", format, "-select_streams", "v", "-show_entries", "packet=pts,flags"]);
    const packets = (json.packets ?? []) as { pts: number; flags: string }[];
    expect(packets.length).toBeGreaterThanOrEqual(cached); // > 128, the queue's capacity
    expect(packets[0].flags).toContain("K");
    // The cached GOP whole: one frame every 40 ms, none missing, no other keyframe.
    const steps = new Set(packets.slice(1).map((p, i) => p.pts - packets[i].pts));
    expect(steps.size).toBe(1);
    expect(packets.slice(1).some((p) => p.flags.includes("K"))).toBe(false);
  };

  it("/api/stream.ts starts from the cached keyframe at once and gets the whole cached GOP", async () => {
    await lateViewer(async () => {
      const res = await fetch(`${s.base}/api/stream.ts?src=cam`);
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      return {
        next: async () => (await reader.read()).value,
        close: () => void reader.cancel().catch(() => {}),
      };
    }, "mpegts");
  }, 60_000);

  it("MSE over /api/ws starts from the cached keyframe at once and gets the whole cached GOP", async () => {
    await lateViewer(async () => {
      const ws = await openWebSocket(`${s.base.replace("http", "ws")}/api/ws?src=cam`);
      const queue: Uint8Array[] = [];
      let wake: (() => void) | undefined;
      let closed = false;
      ws.binaryType = "arraybuffer";
      ws.onmessage = (e) => {
        if (typeof e.data === "string") return; // {"type":"mse","value":<mime>}
        queue.push(new Uint8Array(e.data as ArrayBuffer));
        wake?.();
      };
      ws.onclose = () => {
        closed = true;
        wake?.();
      };
      ws.send(JSON.stringify({ type: "mse", value: "avc1.640029" }));
      return {
        next: async () => {
          while (!queue.length && !closed) await new Promise<void>((r) => (wake = r));
          return queue.shift();
        },
        close: () => {
          closed = true;
          wake?.();
          ws.close();
        },
      };
    }, "mp4");
  }, 60_000);
});

/** A viewer's bytes as they come; `next()` resolves undefined once it ended. */
interface Viewer {
  next(): Promise<Uint8Array | undefined>;
  close(): void;
}

/** A WebSocket client on every runtime (Node 20 has no global WebSocket; the `ws` package is there). */
async function openWebSocket(url: string): Promise<WebSocket> {
  const Ctor: typeof WebSocket = (globalThis as { WebSocket?: typeof WebSocket }).WebSocket ??
    // @ts-ignore: the ws package ships no types; its client has the same event API.
    (await import("ws")).WebSocket;
  const ws = new Ctor(url);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("WebSocket did not open within 3 s")), 3000);
    ws.onopen = () => (clearTimeout(timer), resolve());
    ws.onerror = () => (clearTimeout(timer), reject(new Error("WebSocket failed to open")));
  });
  return ws;
}
