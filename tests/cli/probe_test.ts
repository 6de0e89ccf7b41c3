// `strom probe` against the built-in demo source (H.264 640x360 25 fps, keyframe every 25 frames,
// AAC 48 kHz) and against a bad URL.
import { describe, expect, it } from "bun:test";
import { strom } from "./_cli.ts";

describe("strom probe", () => {
  it("--json reports codecs, resolution, fps, GOP, bitrate and jitter of demo:", async () => {
    const r = await strom(["probe", "demo:", "--json", "--seconds", "3"]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.medias.map((m: { kind: string }) => m.kind)).toEqual(["video", "audio"]);
    const video = report.tracks.find((t: { kind: string }) => t.kind === "video");
    const audio = report.tracks.find((t: { kind: string }) => t.kind === "audio");
    expect(video).toMatchObject({
      codec: "h264",
      width: 640,
      height: 360,
      profile: "Constrained Baseline",
      level: "3.0",
    });
    expect(Math.abs(video.fps - 25)).toBeLessThan(0.1);
    expect(video.fps_sps).toBe(25);
    expect(Math.abs(video.fps_arrival - 25)).toBeLessThan(2);
    expect(video.gop.frames).toBe(25);
    expect(video.gop.seconds).toBeCloseTo(1, 2);
    expect(video.bitrate_bps).toBeGreaterThan(50_000);
    expect(video.frames).toBeGreaterThanOrEqual(70);
    // The demo source is paced by a local timer: arrival follows the timestamps closely.
    expect(video.jitter.jitter_ms).toBeLessThan(20);
    expect(video.timestamp_gaps).toBe(0);
    expect(audio).toMatchObject({
      codec: "aac",
      sample_rate: 48000,
      profile: "AAC-LC",
      samples_per_frame: 1024,
    });
    expect(audio.frame_interval_ms).toBeCloseTo(21.333, 2);
    expect(audio.bitrate_bps).toBeGreaterThan(0);
    expect(report.warnings).toEqual([]);
  }, 20_000);

  it("prints a table without --json", async () => {
    const r = await strom(["probe", "demo:", "--seconds", "1"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("TRACK");
    expect(r.stdout).toMatch(/0 video\s+h264 Constrained Baseline@3\.0\s+640x360/);
    expect(r.stdout).toMatch(/1 audio\s+aac AAC-LC\s+48000 Hz mono/);
  }, 20_000);

  it("a bad URL exits 1 with one line and no stack", async () => {
    const unknown = await strom(["probe", "nosuch://x"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('Unknown source scheme "nosuch"');
    expect(unknown.stderr.trim().split("\n").length).toBe(1);
    const refused = await strom(["probe", "rtsp://127.0.0.1:1/cam", "--timeout", "5"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^strom: .*127\.0\.0\.1:1/);
    expect(refused.stderr).not.toMatch(/\n\s+at /);
  }, 20_000);

  it("rejects a bad --seconds value", async () => {
    const r = await strom(["probe", "demo:", "--seconds", "abc"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Invalid --seconds "abc"');
  }, 20_000);
});
