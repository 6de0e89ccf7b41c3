/**
 * The web UI's config page in headless Chromium, as go2rtc's: edit the YAML, press "Save & restart",
 * and the server (strom serve's loop, `runServer`) comes back with the saved config in full effect:
 * here an RTSP listener the running server did not have.
 */
import { afterAll, describe, expect, it } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../lib/core/log.ts";
import { type RunningServer, runServer } from "../../server/server.ts";
import { hasChromium, launchBrowser } from "../_support/browser.ts";
import { acceptsTcp, freePort } from "../_support/net.ts";
import { waitFor } from "../outputs/_server.ts";

const dir = mkdtempSync(join(tmpdir(), "strom-config-page-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!hasChromium)("config page in headless Chromium", () => {
  it("Save & restart writes the file and brings the server back with it applied", async () => {
    const [apiPort, rtspPort] = [await freePort(), await freePort()];
    const file = join(dir, "strom.yaml");
    writeFileSync(
      file,
      `# cameras\napi: { listen: "127.0.0.1:${apiPort}" }\nrtsp: { listen: "" }\nstreams:\n  a: "demo:"\n`,
    );
    const servers: RunningServer[] = [];
    const done = runServer(
      { configSources: [file], log: silentLogger, handleSignals: false },
      (s) => servers.push(s),
    );
    const browser = await launchBrowser();
    try {
      await waitFor("the first start", () => servers.length === 1);
      const page = await browser.context.newPage();
      await page.goto(`http://127.0.0.1:${apiPort}/config.html`, { timeout: 15_000 });
      await page.waitForFunction(
        () => (document.getElementById("text") as HTMLTextAreaElement).value.includes("# cameras"),
        undefined,
        { timeout: 10_000 },
      );
      const edited = (await page.inputValue("#text")).replace(
        'rtsp: { listen: "" }',
        `rtsp: { listen: "127.0.0.1:${rtspPort}" }`,
      );
      await page.fill("#text", edited);
      await page.click("#restart");
      await page.waitForFunction(
        () => /restarted|did not answer/.test(document.getElementById("msg")!.textContent ?? ""),
        undefined,
        { timeout: 40_000, polling: 200 },
      );
      expect(await page.textContent("#msg")).toBe("saved and restarted");
      expect(servers).toHaveLength(2);
      expect(readFileSync(file, "utf8")).toContain(`rtsp: { listen: "127.0.0.1:${rtspPort}" }`);
      expect(readFileSync(file, "utf8")).toContain("# cameras");
      expect(await acceptsTcp(rtspPort)).toBe(true);
    } finally {
      await browser.close();
      await servers.at(-1)?.close();
      await done.catch(() => {});
    }
  }, 90_000);
});
