// The whole server as a user runs it: the built-in demo, an RTSP relay of it, an ffmpeg transcode
// of it and mosaics of it (the seed article's quad_view), each read back over RTSP by ffprobe (a real
// player).
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { silentLogger } from "../../lib/core/log.ts";
import { type RunningServer, startServer } from "../../server/server.ts";
import { ffmpeg, ffprobe, hasEncoder } from "../_support/ffmpeg.ts";
import { freePort } from "../_support/net.ts";

const hasOpus = await hasEncoder("libopus");

describe("server sources end to end", () => {
  let server: RunningServer;
  let rtsp = "";

  beforeAll(async () => {
    const port = await freePort();
    rtsp = `rtsp://127.0.0.1:${port}`;
    const config = {
      api: { listen: "127.0.0.1:0" },
      rtsp: { listen: `127.0.0.1:${port}` },
      streams: {
        demo: "demo:",
        relay: `${rtsp}/demo`,
        transcoded: "ffmpeg:demo#video=h264#audio=opus",
        quad: "ffmpeg:demo,relay",
        grid: "ffmpeg:demo,relay,demo#width=320#height=180",
        red: "ffmpeg:virtual?video=color&color=red&size=320x240&rate=10#video=h264",
        blue: "ffmpeg:virtual?video=color&color=blue&size=320x240&rate=10#video=h264",
        tour: "ffmpeg:red,blue#tour=1#width=320#height=240",
      },
    };
    server = await startServer({ configSources: [JSON.stringify(config)], log: silentLogger, handleSignals: false });
  }, 20_000);

  afterAll(async () => {
    await server?.close();
  });

  it("serves the built-in demo over RTSP (TCP and UDP)", async () => {
    for (const transport of ["tcp", "udp"]) {
      const probe = await ffprobe(`${rtsp}/demo`, ["-rtsp_transport", transport]);
      expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(["aac", "h264"]);
      expect(probe.streams.find((s) => s.codec_type === "video")).toMatchObject({ width: 640, height: 360 });
    }
  }, 30_000);

  it("relays an RTSP source (strom reading strom)", async () => {
    const probe = await ffprobe(`${rtsp}/relay`, ["-rtsp_transport", "tcp"]);
    expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(["aac", "h264"]);
    const info = await fetch(`${server.urls[0]}/api/streams?src=relay`).then((r) => r.json());
    expect(info.sources).toEqual([`${rtsp}/demo`]);
  }, 30_000);

  it.skipIf(!hasOpus)("transcodes through an ffmpeg: source that reads another stream by name (needs libopus)", async () => {
    const probe = await ffprobe(`${rtsp}/transcoded`, ["-rtsp_transport", "tcp"], 40_000);
    expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(["h264", "opus"]);
  }, 45_000);

  it("a camera tour shows each stream in turn for #tour seconds, over and over (the seed article's rotation)", async () => {
    // 5 s of the tour at 10 fps, each frame shrunk to one RGB pixel: red or blue.
    const out = await ffmpeg([
      "-rtsp_transport", "tcp", "-i", `${rtsp}/tour`, "-t", "5", "-vf", "scale=1:1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-",
    ], 40_000);
    expect(out.stderr).toBe("");
    let seen = "";
    for (let i = 0; i + 2 < out.stdout.length; i += 3) {
      const [r, , b] = out.stdout.subarray(i, i + 3);
      seen += r > 150 && b < 100 ? "R" : b > 150 && r < 100 ? "B" : "?";
    }
    // Runs of one colour, switching at least three times in 5 s, each full turn about 1 s (10 frames).
    const runs = seen.match(/R+|B+|\?+/g) ?? [];
    expect(runs.filter((r) => r[0] === "?")).toEqual([]);
    expect(runs.length).toBeGreaterThanOrEqual(4);
    for (const run of runs.slice(1, -1)) {
      expect(run.length).toBeGreaterThanOrEqual(8);
      expect(run.length).toBeLessThanOrEqual(12);
    }
    const probe = await ffprobe(`${rtsp}/tour`, ["-rtsp_transport", "tcp"], 40_000);
    expect(probe.streams.map((s) => [s.codec_name, s.width, s.height])).toEqual([["h264", 320, 240]]);
  }, 60_000);

  it("tiles several streams into one picture: side by side, and a 2x2 grid of the given tile size", async () => {
    const quad = await ffprobe(`${rtsp}/quad`, ["-rtsp_transport", "tcp"], 40_000);
    expect(quad.streams.map((s) => [s.codec_name, s.width, s.height])).toEqual([["h264", 1280, 360]]);
    const grid = await ffprobe(`${rtsp}/grid`, ["-rtsp_transport", "tcp"], 40_000);
    expect(grid.streams.map((s) => [s.codec_name, s.width, s.height])).toEqual([["h264", 640, 360]]);
  }, 90_000);
});
