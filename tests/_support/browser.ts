/**
 * Headless Chromium (Debian's /usr/bin/chromium) driven by playwright-core, as the real browser in
 * MSE/HLS/WebRTC tests.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Whether a Chromium binary is there (tests skip with a message when not). */
export const hasChromium = existsSync(CHROMIUM);

/**
 * Launches headless Chromium with the flags this sandboxed machine needs, plus `extraArgs` (e.g.
 * `--use-fake-device-for-media-stream`); close() also removes the profile.
 */
export async function launchBrowser(extraArgs: readonly string[] = []) {
  const { chromium } = await import("playwright-core");
  const profile = mkdtempSync(join(tmpdir(), "strom-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--autoplay-policy=no-user-gesture-required",
      ...extraArgs,
    ],
    timeout: 30_000,
  });
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Waits until the web UI's player (`<video-stream>`) on `page` has played past `seconds`: the
 * stream it was given decodes in the browser.
 */
export async function waitForPlayerPlaying(
  page: import("playwright-core").Page,
  seconds = 0.5,
  timeoutMs = 20_000,
): Promise<void> {
  await page.waitForFunction(
    (min) => {
      const v = document.querySelector("video-stream video") as HTMLVideoElement | null;
      return !!v && v.currentTime > min;
    },
    seconds,
    { timeout: timeoutMs, polling: 100 },
  );
}
