/**
 * The web UI's Add page in headless Chromium with an ONVIF camera (tests/_support/onvif_camera.ts):
 * "Find profiles" lists the camera's profiles, "use" fills the form, and the stream added plays the
 * profile picked (the player page opens and its video advances).
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { silentLogger } from "../../lib/core/log.ts";
import { type RunningServer, startServer } from "../../server/server.ts";
import { hasChromium, launchBrowser, waitForPlayerPlaying } from "../_support/browser.ts";
import { startDemoOnvifCamera, type TestCamera } from "../_support/onvif_camera.ts";

describe.skipIf(!hasChromium)("Add page with an ONVIF camera in headless Chromium", () => {
  let camera: TestCamera;
  let server: RunningServer;

  beforeAll(async () => {
    camera = await startDemoOnvifCamera("admin", "pw");
    server = await startServer({
      configSources: [JSON.stringify({ api: { listen: "127.0.0.1:0" }, rtsp: { listen: "" } })],
      log: silentLogger,
      handleSignals: false,
    });
  });
  afterAll(async () => {
    await server.close();
    await camera.close();
  });

  it("finds the profiles, adds the sub stream, and the player plays it", async () => {
    const browser = await launchBrowser();
    try {
      const page = await browser.context.newPage();
      await page.goto(`${server.urls[0]}/add.html`, { timeout: 15_000 });
      await page.fill("#onvif-src", `onvif://admin:pw@127.0.0.1:${camera.port}`);
      await page.click("#onvif button");
      await page.waitForSelector("#profiles li:nth-child(2)", { timeout: 10_000 });
      expect(await page.textContent("#onvif-msg")).toBe("2 profile(s)");
      expect(await page.textContent("#profiles li:nth-child(2)")).toContain(
        "subStream (profile 1) H264 640x360",
      );
      await page.click("#profiles li:nth-child(2) button");
      expect(await page.inputValue("#src")).toBe(`onvif://admin:pw@127.0.0.1:${camera.port}?subtype=sub`);
      await page.fill("#name", "garden");
      await Promise.all([
        page.waitForURL(/stream\.html\?src=garden/, { timeout: 10_000 }),
        page.click("#form button"),
      ]);
      await waitForPlayerPlaying(page);
      const info = await (await fetch(`${server.urls[0]}/api/streams?src=garden`)).json();
      // Listed with the password masked, as every source in /api/streams.
      expect(info.sources).toEqual([`onvif://admin:***@127.0.0.1:${camera.port}?subtype=sub`]);
      expect(camera.requests).toContain("/onvif/media_service GetStreamUri");
    } finally {
      await browser.close();
    }
  }, 60_000);
});
