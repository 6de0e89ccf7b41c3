// `strom transcode`: demo: through ffmpeg (libx264 + aac) into an MP4 that ffprobe reads, and the
// command line it builds.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ffprobe, hasEncoder } from "../_support/ffmpeg.ts";
import { strom } from "./_cli.ts";

const x264 = await hasEncoder("libx264");

describe("strom transcode", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "strom-transcode-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("--print-command shows the ffmpeg command without running it", async () => {
    const r = await strom([
      "transcode",
      "rtsp://10.0.0.5/cam",
      "-o",
      join(dir, "x.mp4"),
      "--video",
      "h264",
      "--audio",
      "opus",
      "--print-command",
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("-i rtsp://10.0.0.5/cam");
    expect(r.stdout).toContain("-c:v libx264");
    expect(r.stdout).toContain("-c:a libopus");
    expect(r.stdout.trim()).toMatch(/-f mpegts -$/);
  }, 20_000);

  it.skipIf(!x264)("demo: -> H.264 320x180 + AAC MP4 of ~2 s", async () => {
    const out = join(dir, "demo_x264.mp4");
    const r = await strom([
      "transcode",
      "demo:",
      "-o",
      out,
      "--video",
      "h264",
      "--audio",
      "aac",
      "--width",
      "320",
      "--duration",
      "2",
    ]);
    expect(r.code).toBe(0);
    const probe = await ffprobe(out);
    expect(probe.streams.map((s) => s.codec_name)).toEqual(["h264", "aac"]);
    expect(probe.streams[0]).toMatchObject({ width: 320, height: 180 });
    expect(Math.abs(Number(probe.format!.duration) - 2)).toBeLessThan(0.15);
  }, 20_000);

  it("--video none --audio none is refused", async () => {
    const r = await strom([
      "transcode",
      "demo:",
      "-o",
      join(dir, "n.mp4"),
      "--video",
      "none",
      "--audio",
      "none",
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("leave nothing to transcode");
  }, 20_000);
});
