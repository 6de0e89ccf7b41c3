/**
 * Chromium's own HLS player with an adaptive playlist (`hls.variants`): the multivariant playlist
 * lists the demo's 640x360 and a 240p level made by ffmpeg; Chromium plays it (the first listed,
 * the camera's own, at the start), time advances and frames decode, with either container.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { silentLogger } from "../../lib/core/log.ts";
import { type RunningServer, startServer } from "../../server/server.ts";
import { hasChromium, launchBrowser, nativeHlsInPage } from "../_support/browser.ts";
import { freePort } from "../_support/net.ts";

describe.skipIf(!hasChromium)("Chromium's native HLS plays an adaptive playlist", () => {
  let server: RunningServer | undefined;
  let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;
  beforeAll(async () => {
    const port = await freePort();
    server = await startServer({
      configSources: [JSON.stringify({
        api: { listen: "127.0.0.1:0" },
        rtsp: { listen: `127.0.0.1:${port}` },
        hls: { variants: ["240p"] },
        streams: { demo: "demo:" },
      })],
      log: silentLogger,
      handleSignals: false,
    });
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  }, 30_000);

  const play = async (query: string) => {
    const playlist = await fetch(`${server!.urls[0]}/api/stream.m3u8?${query}`).then((r) => r.text());
    expect(playlist).toContain("RESOLUTION=426x240");
    const page = await browser!.context.newPage();
    try {
      await page.goto(`${server!.urls[0]}/api`, { timeout: 15_000 });
      const { first: state } = await nativeHlsInPage(page, `/api/stream.m3u8?${query}`, 45_000);
      expect(state.error).toBeNull();
      expect(state.frames).toBeGreaterThan(20);
      expect([240, 360]).toContain(state.height);
    } finally {
      await page.close();
    }
  };

  it("MPEG-TS segments", () => play("src=demo"), 60_000);

  it("fMP4 segments", () => play("src=demo&mp4"), 60_000);
});
