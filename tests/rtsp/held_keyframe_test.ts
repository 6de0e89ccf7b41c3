// A source that drops right after a keyframe (edge mode, `holdMs`): its held GOP is that one frame.
// An ffmpeg RTSP viewer arriving during the outage must still show it. ffmpeg's H.264 parser ends a
// frame only when the next one starts, and no next frame comes while the source is down, so strom
// ends it with an access unit delimiter. Found by the cluster edge test on a loaded machine. The
// viewer decodes as a low-latency player does (one thread; the sample has no B-frames): frame
// threads and B-frame reordering would hold a lone frame back in the decoder whatever the server does.
import { afterAll, beforeAll, describe, it } from "bun:test";
import { spawn } from "node:child_process";
import { RtspServer } from "../../lib/protocol/rtsp/server.ts";
import { expectLateViewerDecodesOneFrame, OneKeyframeCamera } from "../_support/held_camera.ts";
import { hasTool } from "../_support/process.ts";

const hasFfmpeg = await hasTool("ffmpeg");

describe.skipIf(!hasFfmpeg)("a held GOP of one keyframe (needs ffmpeg)", () => {
  let camera: OneKeyframeCamera;
  let rtsp: RtspServer;

  beforeAll(async () => {
    camera = new OneKeyframeCamera("onekey");
    rtsp = await RtspServer.listen({ hub: camera.hub, listen: { hostname: "127.0.0.1", port: 0 } });
  });
  afterAll(async () => {
    await rtsp?.close();
    await camera?.close();
  });

  it("an ffmpeg viewer arriving while the source is down decodes the held keyframe", async () => {
    // A first viewer makes the stream dial; the camera sends one keyframe, then drops.
    const url = `rtsp://127.0.0.1:${rtsp.addr.port}/cam`;
    const first = spawn("ffmpeg", ["-v", "error", "-rtsp_transport", "tcp", "-i", url, "-f", "null", "-"], {
      stdio: "ignore",
    });
    try {
      await camera.sendKeyframeAndDrop();
      // The late viewer: one frame decoded, from the held GOP alone.
      await expectLateViewerDecodesOneFrame(["-rtsp_transport", "tcp", "-i", url]);
    } finally {
      first.kill("SIGKILL");
      await new Promise((r) =>
        first.exitCode !== null || first.signalCode !== null ? r(undefined) : first.once("exit", r)
      );
    }
  }, 60_000);
});
