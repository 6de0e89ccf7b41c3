// A source that drops right after a keyframe (edge mode, `holdMs`): its held GOP is that one frame.
// An ffmpeg RTSP viewer arriving during the outage must still show it. ffmpeg's H.264 parser ends a
// frame only when the next one starts, and no next frame comes while the source is down, so strom
// ends it with an access unit delimiter. Found by the cluster edge test on a loaded machine. The
// viewer decodes as a low-latency player does (one thread; the sample has no B-frames): frame
// threads and B-frame reordering would hold a lone frame back in the decoder whatever the server does.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { joinAvcc } from "../../lib/codec/annexb/avcc.ts";
import { splitAnnexb } from "../../lib/codec/annexb/annexb.ts";
import { H264, MemoryProducer, videoMedia, waitFor } from "../../lib/core/_testing.ts";
import { StreamHub } from "../../lib/core/hub.ts";
import { registerSource, unregisterSource } from "../../lib/core/registry.ts";
import { RtspServer } from "../../lib/protocol/rtsp/server.ts";
import { hasTool, runText } from "../_support/process.ts";

const hasFfmpeg = await hasTool("ffmpeg");
const SAMPLE = fileURLToPath(
  new URL("../../lib/codec/h264/testdata/ffmpeg_h264_320x240_baseline.h264", import.meta.url),
);

// The sample's first access unit (everything before the first non-IDR slice) as AVCC.
function firstKeyframe(): Uint8Array {
  const nals: Uint8Array[] = [];
  for (const nal of splitAnnexb(readFileSync(SAMPLE))) {
    if ((nal[0] & 0x1f) === 1) break; // the next frame
    nals.push(nal);
  }
  expect(nals.some((n) => (n[0] & 0x1f) === 5)).toBe(true);
  return joinAvcc(nals);
}

describe.skipIf(!hasFfmpeg)("a held GOP of one keyframe (needs ffmpeg)", () => {
  const conns: MemoryProducer[] = [];
  let down = false;
  let hub: StreamHub;
  let rtsp: RtspServer;

  beforeAll(async () => {
    registerSource("onekey", () => {
      if (down) return Promise.reject(new Error("the camera is down"));
      const p = new MemoryProducer([videoMedia("recvonly", H264)]);
      conns.push(p);
      return Promise.resolve(p);
    });
    hub = new StreamHub({ holdMs: 30_000, reconnectDelaysMs: [200] });
    hub.set("cam", ["onekey://cam"]);
    rtsp = await RtspServer.listen({ hub, listen: { hostname: "127.0.0.1", port: 0 } });
  });
  afterAll(async () => {
    await rtsp?.close();
    await hub?.close();
    unregisterSource("onekey");
  });

  it("an ffmpeg viewer arriving while the source is down decodes the held keyframe", async () => {
    // A first viewer makes the stream dial; the camera sends one keyframe, then drops.
    const url = `rtsp://127.0.0.1:${rtsp.addr.port}/cam`;
    const first = spawn("ffmpeg", ["-v", "error", "-rtsp_transport", "tcp", "-i", url, "-f", "null", "-"], {
      stdio: "ignore",
    });
    try {
      await waitFor(() => conns.length === 1 && conns[0].started === 1, 10_000);
      conns[0].push("video", { timestamp: 0, keyframe: true, data: firstKeyframe() });
      down = true;
      conns[0].end(new Error("connection reset"));
      await waitFor(
        () => (hub.get("cam")!.info().producers[0] as { holding?: boolean }).holding === true,
        5_000,
      );

      // The late viewer: one frame decoded, from the held GOP alone.
      const late = await runText("ffmpeg", [
        "-v",
        "error",
        "-rtsp_transport",
        "tcp",
        "-probesize",
        "32",
        "-threads",
        "1",
        "-i",
        url,
        "-frames:v",
        "1",
        "-f",
        "null",
        "-",
        "-progress",
        "pipe:1",
        "-nostats",
      ], { timeoutMs: 15_000, label: "the late ffmpeg viewer" });
      expect(late.stdout).toMatch(/^frame=1$/m);
      expect(late.stderr).not.toMatch(/error while decoding|no frame!/i);
    } finally {
      first.kill("SIGKILL");
      await new Promise((r) =>
        first.exitCode !== null || first.signalCode !== null ? r(undefined) : first.once("exit", r)
      );
    }
  }, 60_000);
});
