// `strom snapshot`: the first keyframe of demo: as a JPEG that ffprobe decodes, resizing, and the
// failures a user meets (no ffmpeg, unreachable source).
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ffmpeg, ffprobe } from "../_support/ffmpeg.ts";
import { strom } from "./_cli.ts";

describe("strom snapshot", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "strom-snapshot-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("writes a decodable 640x360 JPEG from demo:", async () => {
    const out = join(dir, "demo.jpg");
    const r = await strom(["snapshot", "demo:", "-o", out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("640x360");
    const bytes = readFileSync(out);
    expect([bytes[0], bytes[1]]).toEqual([0xff, 0xd8]);
    const probe = await ffprobe(out);
    expect(probe.streams[0]).toMatchObject({ codec_name: "mjpeg", width: 640, height: 360 });
    // Decodes without errors, not only a valid header.
    const decode = await ffmpeg(["-i", out, "-f", "null", "-"]);
    expect(decode.code).toBe(0);
    expect(decode.stderr).toBe("");
  }, 20_000);

  it("scales with --width keeping the aspect ratio", async () => {
    const out = join(dir, "small.jpg");
    const r = await strom(["snapshot", "demo:", "-o", out, "--width", "320"]);
    expect(r.code).toBe(0);
    const probe = await ffprobe(out);
    expect(probe.streams[0]).toMatchObject({ width: 320, height: 180 });
  }, 20_000);

  it("exits 1 with a clear message when ffmpeg is missing", async () => {
    const r = await strom(["snapshot", "demo:", "-o", join(dir, "x.jpg"), "--ffmpeg", "/nonexistent/ffmpeg"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("ffmpeg");
    expect(r.stderr).toContain("was not found");
    expect(r.stderr.trim().split("\n").length).toBe(1);
  }, 20_000);

  it("exits 1 when the source cannot be reached, or is not a URL or a stream", async () => {
    const refused = await strom([
      "snapshot",
      "rtsp://127.0.0.1:1/cam",
      "-o",
      join(dir, "y.jpg"),
      "--timeout",
      "5",
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^strom: .*connect/);
    const name = await strom(["snapshot", "nosuchstream", "-o", join(dir, "z.jpg")]);
    expect(name.code).toBe(1);
    expect(name.stderr).toContain('"nosuchstream" is neither a source URL');
  }, 20_000);

  it("exits 1 within --timeout when no keyframe arrives", async () => {
    // A source that never writes a byte.
    const started = Date.now();
    const r = await strom(["snapshot", "exec:sleep 30", "-o", join(dir, "q.jpg"), "--timeout", "2"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Timed out after 2 s waiting for a video keyframe");
    expect(Date.now() - started).toBeLessThan(10_000);
  }, 20_000);

  it("exits 1 naming what an audio-only source offers", async () => {
    const src = "exec:ffmpeg -hide_banner -v error -re -f lavfi -i sine=f=440:r=48000 -c:a aac -f mpegts -";
    const r = await strom(["snapshot", src, "-o", join(dir, "a.jpg"), "--timeout", "8"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "has no H.264, H.265 or JPEG video to snapshot (it offers audio:MPEG4-GENERIC",
    );
  }, 20_000);
});
