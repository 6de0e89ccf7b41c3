/**
 * Chromium's own HLS player (`<video src=".../api/stream.m3u8?src=...">`, no hls.js, no MSE code of
 * ours) plays strom's live HLS, MPEG-TS and fMP4 (issue 9).
 *
 * Native HLS needs no flag here: Debian's Chromium 156 plays HLS in `<video src>` by default,
 * headless included (its HlsManifestDemuxer; `canPlayType("application/vnd.apple.mpegurl")` says
 * "maybe"); the launch flags are the shared ones of tests/_support/browser.ts. A Chromium without
 * native HLS fails the first assertion, saying so.
 *
 * It used to fail with DEMUXER_ERROR_COULD_NOT_PARSE: the first live playlist listed one segment,
 * and Chromium starts three segments from the end of a live playlist (see
 * lib/protocol/hls/segmenter.ts LIVE_PLAYLIST_MIN_SEGMENTS and its unit test in session_test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { hasChromium, launchBrowser, nativeHlsInPage } from "../_support/browser.ts";
import { type OutputServer, startOutputServer } from "../outputs/_server.ts";

describe.skipIf(!hasChromium)("Chromium's native HLS plays strom's live HLS", () => {
  let server: OutputServer | undefined;
  let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;
  beforeAll(async () => {
    server = await startOutputServer();
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  }, 30_000);

  const play = async (query: string) => {
    const page = await browser!.context.newPage();
    try {
      await page.goto(`${server!.base}/api`, { timeout: 15_000 });
      const canPlay = await page.evaluate(() => document.createElement("video").canPlayType("application/vnd.apple.mpegurl"));
      expect(`canPlayType(HLS) = "${canPlay}"`).not.toBe('canPlayType(HLS) = ""'); // this Chromium has no native HLS
      // Bounded: the first playlist waits for three 1 s segments, then Chromium buffers and plays.
      const { first, state } = await nativeHlsInPage(page, `/api/stream.m3u8?${query}`);
      expect(first.error).toBeNull();
      expect(first.width).toBe(640);
      expect(first.height).toBe(360);
      // Still live a playlist reload later: time advances and more frames are decoded.
      await page.waitForFunction(
        (t) => {
          const v = document.getElementById("v") as HTMLVideoElement;
          return !!v.error || v.currentTime > t + 2;
        },
        first.currentTime,
        { timeout: 20_000, polling: 100 },
      );
      const later = await state();
      expect(later.error).toBeNull();
      expect(later.frames).toBeGreaterThan(first.frames);
    } finally {
      await page.close();
    }
  };

  it("MPEG-TS segments (/api/stream.m3u8?src=demo)", () => play("src=demo"), 60_000);

  it("fMP4 segments (/api/stream.m3u8?src=demo&mp4)", () => play("src=demo&mp4"), 60_000);
});
