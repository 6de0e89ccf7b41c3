/**
 * A stream's sources replaced while viewers watch (hub.set, PUT/PATCH /api/streams): viewers of a
 * removed source move to a new source that offers their codec and keep getting frames, and the
 * removed source stops; when no new source offers their codec they are closed (an RTSP viewer's
 * connection is hung up) instead of staying attached to a dead source.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { AAC, audioMedia, H264, MemoryProducer, RecordingConsumer, videoMedia } from "../../lib/core/_testing.ts";
import { StreamHub } from "../../lib/core/hub.ts";
import { registerSource } from "../../lib/core/registry.ts";
import { registerDemoSource } from "../../lib/protocol/demo/register.ts";
import { RtspServer } from "../../lib/protocol/rtsp/server.ts";
import { ffmpeg, type RunResult } from "../_support/ffmpeg.ts";
import { hasTool } from "../_support/process.ts";
import { type OutputServer, startOutputServer, waitFor } from "../outputs/_server.ts";

// The RTSP viewer checks play with ffmpeg; skipped (and counted as skipped) without it.
const hasFfmpeg = await hasTool("ffmpeg");

/** URLs of the stream's producers as /api/streams lists them, with each one's video senders. */
function producers(hub: StreamHub, name: string): { url: string; videoSenders: number }[] {
  const info = hub.get(name)!.info().producers as {
    url: string;
    tracks: { media: string; senders: number }[];
  }[];
  return info.map((p) => ({
    url: p.url,
    videoSenders: p.tracks.filter((t) => t.media === "video").reduce((n, t) => n + t.senders, 0),
  }));
}

describe("sources replaced through the API", () => {
  let server: OutputServer;

  beforeAll(async () => {
    server = await startOutputServer({ streams: { cam: "demo:first" } });
  }, 30_000);

  afterAll(async () => {
    await server?.close();
  }, 30_000);

  it("PUT /api/streams with a new source moves a watching viewer onto it; the old source stops", async () => {
    const stream = server.hub.get("cam")!;
    const viewer = new RecordingConsumer([videoMedia("sendonly", H264)]);
    await stream.addConsumer(viewer);
    await waitFor("frames from demo:first", () => viewer.frames.video.length >= 10);

    const res = await fetch(`${server.base}/api/streams?name=cam&src=demo:second`, { method: "PUT" });
    expect(res.status).toBe(200);
    await res.body?.cancel();
    await stream.retired;

    // 25 more frames (1 s of the demo clip) arrive through the new source.
    const before = viewer.frames.video.length;
    await waitFor("frames from demo:second", () => viewer.frames.video.length >= before + 25, 10_000);
    expect(producers(server.hub, "cam")).toEqual([{ url: "demo:second", videoSenders: 1 }]);
    expect(stream.consumers()).toEqual([viewer]);
    expect(viewer.stopped).toBe(0);
    await stream.removeConsumer(viewer);
  }, 30_000);
});

describe("sources replaced under RTSP viewers", () => {
  let hub: StreamHub;
  let rtsp: RtspServer;
  let base = "";

  beforeAll(async () => {
    registerDemoSource();
    // A source with audio only: what a viewer of video cannot be moved to.
    registerSource("audioonly", () => Promise.resolve(new MemoryProducer([audioMedia("recvonly", AAC)])));
    hub = new StreamHub({ graceMs: 500 });
    // Short session timeout: the session checks on its viewer every timeout / 4 (here 0.5 s).
    rtsp = await RtspServer.listen({ hub, listen: { hostname: "127.0.0.1", port: 0 }, sessionTimeoutMs: 2000 });
    base = `rtsp://127.0.0.1:${rtsp.addr.port}`;
  });

  afterAll(async () => {
    await rtsp?.close();
    await hub?.close();
  });

  /** ffmpeg playing `name` over TCP until it decoded `frames` frames or the connection ended. */
  function play(name: string, frames: number, timeoutMs: number): Promise<RunResult> {
    return ffmpeg(
      ["-rtsp_transport", "tcp", "-i", `${base}/${name}`, "-map", "0:v", "-frames:v", String(frames), "-f", "null", "-"],
      timeoutMs,
    );
  }

  /** Waits until an RTSP viewer of `name` gets video frames from the stream's source. */
  async function waitForViewer(name: string): Promise<void> {
    await waitFor(`an RTSP viewer of ${name}`, () => producers(hub, name).some((p) => p.videoSenders > 0), 15_000);
  }

  it.skipIf(!hasFfmpeg)("ffmpeg keeps decoding across hub.set with a new source (200 frames, 8 s)", async () => {
    hub.set("moved", ["demo:a"]);
    const started = Date.now();
    const player = play("moved", 200, 25_000);
    await waitForViewer("moved");
    hub.set("moved", ["demo:b"]);
    await hub.get("moved")!.retired;
    expect(producers(hub, "moved")).toEqual([{ url: "demo:b", videoSenders: 1 }]);
    const result = await player;
    expect(result.stderr).not.toMatch(/Connection|timed out|Invalid data/i);
    expect(result.code).toBe(0);
    // 200 frames at 25 fps: it played through the change instead of stalling until the timeout.
    expect(Date.now() - started).toBeLessThan(20_000);
  }, 30_000);

  it.skipIf(!hasFfmpeg)("a viewer whose codec no new source offers is closed and its connection hung up", async () => {
    hub.set("closed", ["demo:c"]);
    const player = play("closed", 100_000, 20_000);
    await waitForViewer("closed");
    const changed = Date.now();
    hub.set("closed", ["audioonly:"]);
    await hub.get("closed")!.retired;
    expect(hub.get("closed")!.consumers()).toEqual([]);
    const result = await player;
    // The server hung up (well before ffmpeg's own 20 s bound): ffmpeg ends at the end of input.
    expect(Date.now() - changed).toBeLessThan(8_000);
    expect(result.signal).toBeNull();
  }, 30_000);
});
