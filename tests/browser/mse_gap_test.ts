/**
 * The web player over MSE across a gap in the stream's time (frames a viewer never got: the server
 * skipped a slow viewer to the next keyframe, or the camera skipped). go2rtc's users report MSE
 * freezing at such gaps; strom keeps the gap in the fMP4 time (under 10 s, media_timeline.ts) and
 * the picture must go on as soon as the video after it arrives, not when the player has fallen far
 * enough behind to seek to live (5 s).
 *
 * The source: 4 s of video, then 2 s of nothing (read at its own pace, so nothing arrives for 2 s),
 * then video whose time continues 2 s later.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hasChromium, launchBrowser } from "../_support/browser.ts";
import { ffmpeg } from "../_support/ffmpeg.ts";
import { type OutputServer, startOutputServer } from "../outputs/_server.ts";

const PART = [
  "-f",
  "lavfi",
  "-i",
  "testsrc2=size=320x240:rate=25",
  "-c:v",
  "libx264",
  "-preset",
  "ultrafast",
];
const X264 = ["-g", "25", "-bf", "0", "-pix_fmt", "yuv420p", "-f", "mpegts"];

describe.skipIf(!hasChromium)("web player (MSE) across a gap in the stream", () => {
  let dir = "";
  let server: OutputServer | undefined;
  let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "strom-gap-"));
    const a = join(dir, "a.ts");
    const b = join(dir, "b.ts");
    await ffmpeg([...PART, "-t", "4", ...X264, a]);
    // The second part's time starts 6 s in: 2 s after the first part ends.
    await ffmpeg([...PART, "-t", "8", ...X264, "-output_ts_offset", "6", b]);
    const file = join(dir, "gap.ts");
    writeFileSync(file, new Uint8Array([...readFileSync(a), ...readFileSync(b)]));
    server = await startOutputServer({ streams: { gap: `ffmpeg:${file}#video=copy` } });
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it("plays on as soon as the video after the gap arrives", async () => {
    const page = await browser!.context.newPage();
    try {
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      await page.goto(`${server!.base}/stream.html?src=gap&mode=mse`, { timeout: 15_000 });
      // Samples of the playing position every 50 ms for 11 s from the first frame shown.
      const samples = await page.evaluate(async () => {
        const deadline = Date.now() + 20_000;
        let v = document.querySelector("video-stream video") as HTMLVideoElement | null;
        while ((!v || v.currentTime === 0) && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 50));
          v = document.querySelector("video-stream video") as HTMLVideoElement | null;
        }
        const out: { at: number; t: number; ranges: number }[] = [];
        const start = performance.now();
        while (performance.now() - start < 11_000) {
          out.push({ at: performance.now() - start, t: v!.currentTime, ranges: v!.buffered.length });
          await new Promise((r) => setTimeout(r, 50));
        }
        return out;
      });
      expect(samples.length).toBeGreaterThan(100);
      // The longest time the position stood still: the 2 s without data, and little more.
      let longest = 0;
      let since = samples[0];
      for (const s of samples) {
        if (s.t !== since.t) since = s;
        else longest = Math.max(longest, s.at - since.at);
      }
      expect(samples.some((s) => s.ranges > 1 || s.t > 0)).toBe(true);
      expect(longest).toBeLessThan(3200);
      // It plays on after the gap, at the live pace.
      const last = samples[samples.length - 1];
      const lastSecond = samples.find((s) => s.at >= last.at - 1000)!;
      expect(last.t - lastSecond.t).toBeGreaterThan(0.5);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  }, 60_000);
});
