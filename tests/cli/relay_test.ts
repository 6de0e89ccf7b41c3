// `strom relay`: publishing demo: with ANNOUNCE/RECORD to strom's own RTSP server and to ffmpeg as
// an RTSP server, and serving it with --rtsp-listen; ffprobe reads the results.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StreamHub } from "../../lib/core/hub.ts";
import { RtspServer } from "../../lib/protocol/rtsp/server.ts";
import { ffmpeg, ffprobe } from "../_support/ffmpeg.ts";
import { freePort } from "../_support/net.ts";
import { startStrom, strom } from "./_cli.ts";

describe("strom relay", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "strom-relay-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("publishes demo: into strom's RTSP server (ANNOUNCE/RECORD)", async () => {
    const hub = new StreamHub({ graceMs: 0 });
    hub.set("pub", []);
    const server = await RtspServer.listen({ hub, listen: { hostname: "127.0.0.1", port: 0 } });
    const url = `rtsp://127.0.0.1:${server.addr.port}/pub`;
    const cli = startStrom(["relay", "demo:", url, "--duration", "8"]);
    try {
      await cli.waitFor(/relaying demo: \(H264\/90000 \+ MPEG4-GENERIC\/48000\)/);
      const probe = await ffprobe(url, ["-rtsp_transport", "tcp"], 10_000);
      expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(["aac", "h264"]);
      expect(probe.streams.find((s) => s.codec_type === "video")).toMatchObject({ width: 640, height: 360 });
      expect(hub.get("pub")!.producers()[0].info().format).toBe("rtsp");
    } finally {
      cli.kill();
      await server.close();
      await hub.close();
    }
  }, 20_000);

  it("publishes to ffmpeg as the RTSP server, which records a playable file", async () => {
    const port = await freePort();
    const out = join(dir, "from_relay.mp4");
    const receiver = ffmpeg([
      "-rtsp_flags",
      "listen",
      "-timeout",
      "10",
      "-i",
      `rtsp://127.0.0.1:${port}/live`,
      "-t",
      "2",
      "-c",
      "copy",
      "-y",
      out,
    ], 15_000);
    // ffmpeg needs a moment to listen; retry the publish until it is there.
    let r;
    for (let i = 0; i < 8; i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      r = await strom([
        "relay",
        "demo:",
        `rtsp://127.0.0.1:${port}/live`,
        "--duration",
        "5",
        "--timeout",
        "3",
        // ffmpeg ends after 2 s: stop then instead of publishing again until the duration.
        "--retries",
        "0",
      ]);
      if (!/refused/.test(r.stderr)) break;
    }
    const done = await receiver;
    expect(done.code).toBe(0);
    expect(r!.stderr).toContain("relaying demo:");
    const probe = await ffprobe(out);
    expect(probe.streams.map((s) => s.codec_name)).toEqual(["h264", "aac"]);
    expect(Math.abs(Number(probe.format!.duration) - 2)).toBeLessThan(0.3);
  }, 40_000);

  it("--rtsp-listen serves the source to RTSP readers", async () => {
    const cli = startStrom([
      "relay",
      "demo:",
      "--rtsp-listen",
      "127.0.0.1:0",
      "--name",
      "cam",
      "--duration",
      "30",
    ]);
    try {
      const m = await cli.waitFor(/at (rtsp:\/\/127\.0\.0\.1:\d+\/cam)/, 20_000);
      const probe = await ffprobe(m[1], ["-rtsp_transport", "tcp"], 10_000);
      expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(["aac", "h264"]);
      const json = await strom(["probe", m[1], "--json", "--seconds", "2"]);
      expect(json.code).toBe(0);
      const video = JSON.parse(json.stdout).tracks[0];
      expect(video).toMatchObject({ codec: "h264", width: 640, height: 360 });
      expect(Math.abs(video.fps - 25)).toBeLessThan(0.1);
    } finally {
      cli.kill();
    }
  }, 40_000);

  it("refuses a missing or unsupported destination", async () => {
    const none = await strom(["relay", "demo:"]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("Missing the destination");
    const http = await strom(["relay", "demo:", "http://example.com/x"]);
    expect(http.code).toBe(1);
    expect(http.stderr).toContain("only rtsp:// and rtsps://");
    const refused = await strom(["relay", "demo:", "rtsp://127.0.0.1:1/x", "--timeout", "3"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^strom: Cannot publish to "rtsp:\/\/127\.0\.0\.1:1\/x": .*refused/);
  }, 45_000); // three CLI starts: several seconds each on a loaded machine
});
