// A source that drops right after a keyframe (edge mode, `holdMs`): its held GOP is that one frame.
// An ffmpeg viewer of `/api/stream.ts` arriving during the outage must still show it. ffmpeg's
// MPEG-TS demuxer ends a video PES without a length only when the next PES starts, and its H.264
// parser ends a frame only when the next one starts; no next frame comes while the source is down,
// so strom ends the held GOP with an access unit delimiter, as for RTSP
// (tests/rtsp/held_keyframe_test.ts). The viewer decodes as a low-latency player does (one thread;
// the sample has no B-frames).
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { joinAvcc } from "../../lib/codec/annexb/avcc.ts";
import { splitAnnexb } from "../../lib/codec/annexb/annexb.ts";
import { H264, MemoryProducer, videoMedia, waitFor } from "../../lib/core/_testing.ts";
import { StreamHub } from "../../lib/core/hub.ts";
import { silentLogger } from "../../lib/core/log.ts";
import { registerSource, unregisterSource } from "../../lib/core/registry.ts";
import { createApp } from "../../server/app.ts";
import { loadConfigText } from "../../server/config/mod.ts";
import { runtimeIo } from "../../server/load.ts";
import { type HttpServer, loadServeAdapter } from "../../server/serve/mod.ts";
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

describe.skipIf(!hasFfmpeg)("a held GOP of one keyframe over /api/stream.ts (needs ffmpeg)", () => {
  const conns: MemoryProducer[] = [];
  let down = false;
  let hub: StreamHub;
  let http: HttpServer;

  beforeAll(async () => {
    registerSource("onekeyts", () => {
      if (down) return Promise.reject(new Error("the camera is down"));
      const p = new MemoryProducer([videoMedia("recvonly", H264)]);
      conns.push(p);
      return Promise.resolve(p);
    });
    hub = new StreamHub({ holdMs: 30_000, reconnectDelaysMs: [200] });
    hub.set("cam", ["onekeyts://cam"]);
    const { config } = await loadConfigText("", runtimeIo, "test.yaml");
    const app = createApp({ hub, config, log: silentLogger, version: "9.9.9-test" });
    http = await (await loadServeAdapter()).serve(app, { hostname: "127.0.0.1", port: 0 });
  });
  afterAll(async () => {
    await http?.close();
    await hub?.close();
    unregisterSource("onekeyts");
  });

  it("an ffmpeg viewer arriving while the source is down decodes the held keyframe", async () => {
    // A first viewer makes the stream dial; the camera sends one keyframe, then drops.
    const url = `http://127.0.0.1:${http.addr.port}/api/stream.ts?src=cam`;
    const abort = new AbortController();
    const first = await fetch(url, { signal: abort.signal });
    try {
      expect(first.status).toBe(200);
      await waitFor(() => conns.length === 1 && conns[0].started === 1, 10_000);
      conns[0].push("video", { timestamp: 0, keyframe: true, data: firstKeyframe() });
      down = true;
      conns[0].end(new Error("connection reset"));
      await waitFor(
        () => (hub.get("cam")!.info().producers[0] as { holding?: boolean }).holding === true,
        5_000,
      );

      // The late viewer: one frame decoded, from the held GOP alone. `-f mpegts`: ffmpeg's format
      // probe waits for 2 KB, more than this small sample's keyframe.
      const late = await runText("ffmpeg", [
        "-v",
        "error",
        "-probesize",
        "32",
        "-threads",
        "1",
        "-f",
        "mpegts",
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
      abort.abort();
      await first.body?.cancel().catch(() => {});
    }
  }, 60_000);
});
