import { describe, expect, it } from "bun:test";
import { hasChromium, launchBrowser } from "./browser.ts";

describe("browser harness", () => {
  it.skipIf(!hasChromium)("launches headless Chromium and renders a page", async () => {
    const b = await launchBrowser();
    try {
      const page = await b.context.newPage();
      await page.setContent("<h1 id=x>hi</h1><script>document.getElementById('x').textContent = typeof MediaSource</script>");
      expect(await page.textContent("#x")).toBe("function");
    } finally {
      await b.close();
    }
  }, 60_000);
});
