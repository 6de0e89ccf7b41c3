// The recordings page in headless Chromium: it lists the segments a server recorded and plays one
// (the cut MP4 of /api/recordings.mp4) in a <video>: time advances and frames decode.
import { describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../lib/core/log.ts";
import { createRecordModule } from "../../server/modules/record.ts";
import { startServer } from "../../server/server.ts";
import { hasChromium, launchBrowser } from "../_support/browser.ts";
import { waitFor } from "../outputs/_server.ts";

describe.skipIf(!hasChromium)("recordings page in headless Chromium", () => {
  it("lists the segments and plays one", async () => {
    const dir = mkdtempSync(join(tmpdir(), "strom-rec-page-"));
    const server = await startServer({
      configSources: [JSON.stringify({ streams: { demo: "demo:" }, record: { dir, segment: "2s", streams: ["demo"] } })],
      listen: "127.0.0.1:0",
      handleSignals: false,
      log: silentLogger,
      modules: [createRecordModule({ checkMs: 500, sync: false })],
    });
    const base = server.urls[0];
    const browser = await launchBrowser();
    try {
      await waitFor("two segments", async () => {
        const list = await (await fetch(`${base}/api/recordings?src=demo`)).json() as unknown[];
        return list.length >= 2;
      }, 20_000);
      const page = await browser.context.newPage();
      try {
        const errors: string[] = [];
        page.on("pageerror", (e) => errors.push(String(e)));
        await page.goto(`${base}/recordings.html?src=demo`, { timeout: 15_000 });
        // The header links here.
        expect(await page.locator('header a[href="recordings.html"]').count()).toBe(1);
        await page.waitForFunction(() => document.querySelectorAll("#segments tr").length >= 2, undefined, {
          timeout: 15_000,
        });
        // Newest first: the second row is a complete segment.
        await page.locator("#segments tr").nth(1).locator("a", { hasText: "play" }).click();
        await page.waitForFunction(
          () => {
            const v = document.getElementById("player") as HTMLVideoElement;
            return v.currentTime > 1 && v.getVideoPlaybackQuality().totalVideoFrames > 20;
          },
          undefined,
          { timeout: 20_000, polling: 100 },
        );
        const size = await page.evaluate(() => {
          const v = document.getElementById("player") as HTMLVideoElement;
          return [v.videoWidth, v.videoHeight];
        });
        expect(size).toEqual([640, 360]);
        expect(errors).toEqual([]);
      } finally {
        await page.close();
      }
    } finally {
      await browser.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
