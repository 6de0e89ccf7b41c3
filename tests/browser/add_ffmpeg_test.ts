/**
 * The web UI's Add page in headless Chromium: "Hardware encoders" lists ffmpeg's hardware encoder
 * checks (OK or ERROR), "use" puts one into the form, "Capture devices" answers, and a server whose
 * config file does not allow programs from the API says so instead.
 */
import { afterAll, describe, expect, it } from "bun:test";
import { silentLogger } from "../../lib/core/log.ts";
import { type RunningServer, startServer } from "../../server/server.ts";
import { hasChromium, launchBrowser } from "../_support/browser.ts";
import { hasTool } from "../_support/process.ts";

const hasFf = await hasTool("ffmpeg");

describe.skipIf(!hasChromium || !hasFf)("Add page's FFmpeg section in headless Chromium", () => {
  const servers: RunningServer[] = [];
  afterAll(async () => {
    for (const s of servers) await s.close();
  });
  const serve = async (allow: boolean) => {
    const server = await startServer({
      configSources: [
        JSON.stringify({ api: { listen: "127.0.0.1:0", allow_exec_sources: allow }, rtsp: { listen: "" } }),
      ],
      log: silentLogger,
      handleSignals: false,
    });
    servers.push(server);
    return server.urls[0];
  };

  it(
    "lists the hardware checks and devices, and names the setting when programs are not allowed",
    async () => {
      const allowed = await serve(true);
      const refused = await serve(false);
      const browser = await launchBrowser();
      try {
        const page = await browser.context.newPage();
        await page.goto(`${allowed}/add.html`, { timeout: 15_000 });
        await page.click("#ff-hardware");
        await page.waitForSelector("#ffmpeg li", { timeout: 20_000 });
        expect(await page.textContent("#ff-msg")).toMatch(/^\d+ hardware encoder checks$/);
        const first = await page.textContent("#ffmpeg li:first-child");
        expect(first).toMatch(/(OK|ERROR) .*ffmpeg:\.\.\.#video=\w+#hardware=\w+/);
        await page.click("#ffmpeg li:first-child button");
        expect(await page.inputValue("#src")).toMatch(/^ffmpeg:\.\.\.#video=\w+#hardware=\w+$/);

        await page.click("#ff-devices");
        await page.waitForFunction(
          () => !document.getElementById("ff-msg")!.textContent!.startsWith("asking"),
          null,
          {
            timeout: 20_000,
          },
        );
        expect(await page.textContent("#ff-msg")).toMatch(/^(\d+ capture devices|no capture devices found)$/);

        await page.goto(`${refused}/add.html`, { timeout: 15_000 });
        await page.click("#ff-hardware");
        await page.waitForSelector("#ff-msg.bad", { timeout: 10_000 });
        expect(await page.textContent("#ff-msg")).toContain("403: GET /api/ffmpeg/hardware runs ffmpeg");
        expect(await page.textContent("#ff-msg")).toContain("api.allow_exec_sources: true");
      } finally {
        await browser.close();
      }
    },
    60_000,
  );
});
