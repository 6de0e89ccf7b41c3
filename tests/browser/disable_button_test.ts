/**
 * The web UI's stream list in headless Chromium: "disable" asks for a reason and turns the stream
 * off (privacy mode, PUT /api/disabled), the row then says so and offers "enable", which turns it
 * back on.
 */
import { afterAll, describe, expect, it } from "bun:test";
import { silentLogger } from "../../lib/core/log.ts";
import { startServer } from "../../server/server.ts";
import { hasChromium, launchBrowser } from "../_support/browser.ts";

describe.skipIf(!hasChromium)("disable button in headless Chromium", () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it("disables a stream with a reason and enables it again", async () => {
    const server = await startServer({
      configSources: [
        JSON.stringify({ api: { listen: "127.0.0.1:0" }, rtsp: { listen: "" }, streams: { door: "demo:" } }),
      ],
      log: silentLogger,
      handleSignals: false,
    });
    cleanup.push(() => server.close());
    const base = server.urls[0];
    const browser = await launchBrowser();
    cleanup.push(() => browser.close());
    const page = await browser.context.newPage();
    const prompts: string[] = [];
    page.on("dialog", (dialog) => {
      prompts.push(dialog.message());
      void dialog.accept("nap time");
    });
    await page.goto(`${base}/`, { timeout: 15_000 });
    await page.click('button[data-disable="door"]', { timeout: 10_000 });
    await page.waitForFunction(
      () => document.querySelector("td.state")?.textContent === "disabled: nap time",
      undefined,
      { timeout: 10_000, polling: 100 },
    );
    expect(prompts[0]).toContain('Disable stream "door"');
    expect(await (await fetch(`${base}/api/disabled`)).json()).toMatchObject({
      door: { reason: "nap time" },
    });
    expect((await fetch(`${base}/api/frame.jpeg?src=door`)).status).toBe(503);

    await page.click('button[data-enable="door"]', { timeout: 10_000 });
    await page.waitForFunction(
      () => /^\d+$/.test(document.querySelector("td.state")?.textContent ?? ""),
      undefined,
      { timeout: 10_000, polling: 100 },
    );
    expect(await (await fetch(`${base}/api/disabled`)).json()).toEqual({});
    expect((await fetch(`${base}/api/frame.jpeg?src=door`)).status).toBe(200);
  }, 60_000);
});
