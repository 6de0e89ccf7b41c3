// A source that drops right after a keyframe (edge mode, `holdMs`): its held GOP is that one frame.
// An ffmpeg viewer of `/api/stream.ts` arriving during the outage must still show it. ffmpeg's
// MPEG-TS demuxer ends a video PES without a length only when the next PES starts, and its H.264
// parser ends a frame only when the next one starts; no next frame comes while the source is down,
// so strom ends the held GOP with an access unit delimiter, as for RTSP
// (tests/rtsp/held_keyframe_test.ts). The viewer decodes as a low-latency player does (one thread;
// the sample has no B-frames).
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { silentLogger } from "../../lib/core/log.ts";
import { createApp } from "../../server/app.ts";
import { loadConfigText } from "../../server/config/mod.ts";
import { runtimeIo } from "../../server/load.ts";
import { type HttpServer, loadServeAdapter } from "../../server/serve/mod.ts";
import { expectLateViewerDecodesOneFrame, OneKeyframeCamera } from "../_support/held_camera.ts";
import { hasTool } from "../_support/process.ts";

const hasFfmpeg = await hasTool("ffmpeg");

describe.skipIf(!hasFfmpeg)("a held GOP of one keyframe over /api/stream.ts (needs ffmpeg)", () => {
  let camera: OneKeyframeCamera;
  let http: HttpServer;

  beforeAll(async () => {
    camera = new OneKeyframeCamera("onekeyts");
    const { config } = await loadConfigText("", runtimeIo, "test.yaml");
    const app = createApp({ hub: camera.hub, config, log: silentLogger, version: "9.9.9-test" });
    http = await (await loadServeAdapter()).serve(app, { hostname: "127.0.0.1", port: 0 });
  });
  afterAll(async () => {
    await http?.close();
    await camera?.close();
  });

  it("an ffmpeg viewer arriving while the source is down decodes the held keyframe", async () => {
    // A first viewer makes the stream dial; the camera sends one keyframe, then drops.
    const url = `http://127.0.0.1:${http.addr.port}/api/stream.ts?src=cam`;
    const abort = new AbortController();
    const first = await fetch(url, { signal: abort.signal });
    try {
      expect(first.status).toBe(200);
      await camera.sendKeyframeAndDrop();
      // The late viewer: one frame decoded, from the held GOP alone. `-f mpegts`: ffmpeg's format
      // probe waits for 2 KB, more than this small sample's keyframe.
      await expectLateViewerDecodesOneFrame(["-f", "mpegts", "-i", url]);
    } finally {
      abort.abort();
      await first.body?.cancel().catch(() => {});
    }
  }, 60_000);
});
