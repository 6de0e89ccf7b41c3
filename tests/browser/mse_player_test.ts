/**
 * The web player in a real browser: headless Chromium opens `stream.html?src=demo` (the `<video-stream>`
 * element speaking MSE over `/api/ws`) and must play: time advances, frames are decoded, and the
 * picture is not blank. Closing the page must release the viewer on the server.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { Page } from "playwright-core";
import { hasChromium, launchBrowser } from "../_support/browser.ts";
import { consumerCount, type OutputServer, startOutputServer, waitFor } from "../outputs/_server.ts";

/** Minimal PNG check: signature and IHDR size, so a screenshot is known to be a real image. */
function pngSize(png: Uint8Array): { width: number; height: number } {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  for (let i = 0; i < 8; i++) if (png[i] !== sig[i]) throw new Error("screenshot is not a PNG");
  const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return { width: dv.getUint32(16), height: dv.getUint32(20) };
}

/**
 * A strom server with the demo stream and a headless Chromium for one describe block: started in
 * beforeAll, closed in afterAll. Read `server()` and open pages with `withPage()` inside tests.
 */
function serverAndBrowser() {
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
  /** Runs `fn` on a new page of the browser and closes the page whatever happens. */
  const withPage = async (fn: (page: Page) => Promise<void>): Promise<void> => {
    const page = await browser!.context.newPage();
    try {
      await fn(page);
    } finally {
      await page.close();
    }
  };
  return { server: () => server!, withPage };
}

describe.skipIf(!hasChromium)("web player (MSE) in headless Chromium", () => {
  const { server, withPage } = serverAndBrowser();

  it("plays the demo stream: time advances, frames decode, the picture is not blank", async () => {
    await withPage(async (page) => {
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      await page.goto(`${server().base}/stream.html?src=demo&mode=mse`, { timeout: 15_000 });
      await page.waitForFunction(
        () => {
          const v = document.querySelector("video-stream video") as HTMLVideoElement | null;
          return !!v && v.currentTime > 1;
        },
        undefined,
        { timeout: 20_000, polling: 100 },
      );

      const state = await page.evaluate(() => {
        const v = document.querySelector("video-stream video") as HTMLVideoElement;
        const q = v.getVideoPlaybackQuality();
        const canvas = document.createElement("canvas");
        canvas.width = 64;
        canvas.height = 36;
        const g = canvas.getContext("2d")!;
        g.drawImage(v, 0, 0, canvas.width, canvas.height);
        const px = g.getImageData(0, 0, canvas.width, canvas.height).data;
        let sum = 0;
        let sumSq = 0;
        const n = px.length / 4;
        for (let i = 0; i < px.length; i += 4) {
          const y = 0.299 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2];
          sum += y;
          sumSq += y * y;
        }
        const mean = sum / n;
        return {
          currentTime: v.currentTime,
          totalVideoFrames: q.totalVideoFrames,
          width: v.videoWidth,
          height: v.videoHeight,
          variance: sumSq / n - mean * mean,
          status: (document.querySelector("video-stream .vs-status") as HTMLElement | null)?.textContent ??
            "",
        };
      });
      expect(state.currentTime).toBeGreaterThan(1);
      expect(state.totalVideoFrames).toBeGreaterThan(0);
      expect(state.width).toBe(640);
      expect(state.height).toBe(360);
      // testsrc2 is colourful; a blank (black or single-colour) frame has a variance near 0.
      expect(state.variance).toBeGreaterThan(100);
      expect(state.status).toContain("avc1");

      const shot = new Uint8Array(await page.screenshot({ type: "png" }));
      const size = pngSize(shot);
      expect(size.width).toBeGreaterThan(0);
      expect(shot.length).toBeGreaterThan(5_000); // a blank page compresses to well under that
      expect(errors).toEqual([]);
      expect(consumerCount(server().hub, "demo")).toBe(1);
    });
    // The WebSocket closed with the page: the viewer must go away.
    await waitFor("the MSE viewer to be removed", () => consumerCount(server().hub, "demo") === 0, 10_000);
  }, 60_000);
});

describe.skipIf(!hasChromium)("web player with an unknown stream", () => {
  const { server, withPage } = serverAndBrowser();

  it("shows the server's 'not found' message instead of a blank player", async () => {
    await withPage(async (page) => {
      await page.goto(`${server().base}/stream.html?src=nope`, { timeout: 15_000 });
      await page.waitForFunction(
        () => /not found/.test(document.querySelector(".vs-status")?.textContent ?? ""),
        null,
        {
          timeout: 10_000,
        },
      );
      expect(await page.textContent(".vs-status")).toContain('Stream "nope" not found');
    });
  }, 30_000);
});

describe.skipIf(!hasChromium)("/api/ws media messages from a browser WebSocket", () => {
  const { server, withPage } = serverAndBrowser();

  it("mse: answers the MIME type, then the init segment and fragments as binary", async () => {
    await withPage(async (page) => {
      await page.goto(`${server().base}/`);
      const got = await page.evaluate(async () => {
        const ws = new WebSocket(`${location.origin.replace("http", "ws")}/api/ws?src=demo`);
        ws.binaryType = "arraybuffer";
        const texts: string[] = [];
        const boxes: string[] = [];
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error("timeout")), 10_000);
          ws.onopen = () => ws.send(JSON.stringify({ type: "mse", value: "avc1.640029,mp4a.40.2,opus" }));
          ws.onmessage = (ev) => {
            if (typeof ev.data === "string") texts.push(ev.data);
            else boxes.push(new TextDecoder().decode(new Uint8Array(ev.data, 4, 4)));
            if (boxes.length >= 5) {
              clearTimeout(timer);
              resolve();
            }
          };
        });
        ws.close();
        return { texts, boxes };
      });
      expect(got.texts).toEqual([
        JSON.stringify({ type: "mse", value: 'video/mp4; codecs="avc1.42c01e,mp4a.40.2"' }),
      ]);
      expect(got.boxes[0]).toBe("ftyp");
      expect(got.boxes.slice(1).every((b) => b === "moof")).toBe(true);
    });
    await waitFor("the viewer to leave", () => consumerCount(server().hub, "demo") === 0, 10_000);
  }, 30_000);

  it("unknown src: an error message naming the stream, then the socket closes", async () => {
    await withPage(async (page) => {
      await page.goto(`${server().base}/`);
      const got = await page.evaluate(async () => {
        const ws = new WebSocket(`${location.origin.replace("http", "ws")}/api/ws?src=nosuchcam`);
        const texts: string[] = [];
        const code = await new Promise<number>((resolve) => {
          setTimeout(() => resolve(-1), 10_000);
          ws.onopen = () => ws.send(JSON.stringify({ type: "mse", value: "avc1.640029" }));
          ws.onmessage = (ev) => texts.push(String(ev.data));
          ws.onclose = (ev) => resolve(ev.code);
        });
        return { texts, code };
      });
      expect(got.code).not.toBe(-1);
      expect(got.texts.length).toBe(1);
      const msg = JSON.parse(got.texts[0]);
      expect(msg.type).toBe("error");
      expect(msg.value).toContain('"nosuchcam"');
    });
  }, 30_000);

  it("mjpeg: announces itself, then sends JPEGs as binary messages", async () => {
    await withPage(async (page) => {
      await page.goto(`${server().base}/`);
      const got = await page.evaluate(async () => {
        const ws = new WebSocket(`${location.origin.replace("http", "ws")}/api/ws?src=demo`);
        ws.binaryType = "arraybuffer";
        const texts: string[] = [];
        const heads: number[][] = [];
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error("timeout")), 15_000);
          ws.onopen = () => ws.send(JSON.stringify({ type: "mjpeg" }));
          ws.onmessage = (ev) => {
            if (typeof ev.data === "string") texts.push(ev.data);
            else heads.push([...new Uint8Array(ev.data, 0, 2)]);
            if (heads.length >= 3) {
              clearTimeout(timer);
              resolve();
            }
          };
        });
        ws.close();
        return { texts, heads };
      });
      expect(got.texts).toEqual(['{"type":"mjpeg"}']);
      expect(got.heads.every((h) => h[0] === 0xff && h[1] === 0xd8)).toBe(true);
    });
    await waitFor("the viewer to leave", () => consumerCount(server().hub, "demo") === 0, 10_000);
  }, 30_000);

  it("hls: answers a multivariant playlist whose media playlist is served over HTTP", async () => {
    await withPage(async (page) => {
      await page.goto(`${server().base}/`);
      const got = await page.evaluate(async () => {
        const ws = new WebSocket(`${location.origin.replace("http", "ws")}/api/ws?src=demo`);
        const text = await new Promise<string>((resolve, reject) => {
          setTimeout(() => reject(new Error("timeout")), 15_000);
          ws.onopen = () => ws.send(JSON.stringify({ type: "hls", value: "avc1.640029,mp4a.40.2" }));
          ws.onmessage = (ev) => resolve(String(ev.data));
        });
        ws.close();
        const msg = JSON.parse(text);
        const uri = (msg.value as string).trim().split("\n").pop()!;
        const media = await (await fetch(new URL(uri, `${location.origin}/api/`))).text();
        return { type: msg.type, master: msg.value as string, media };
      });
      expect(got.type).toBe("hls");
      expect(got.master).toContain('CODECS="avc1.42c01e,mp4a.40.2"');
      expect(got.media).toContain("#EXT-X-MAP:URI=");
      expect(got.media).toContain("segment.m4s?id=");
    });
  }, 30_000);
});

describe.skipIf(!hasChromium)("web player MJPEG mode in headless Chromium", () => {
  const { server, withPage } = serverAndBrowser();

  it("shows /api/stream.mjpeg in an <img>", async () => {
    await withPage(async (page) => {
      await page.goto(`${server().base}/stream.html?src=demo&mode=mjpeg`, { timeout: 15_000 });
      await page.waitForFunction(
        () => {
          const img = document.querySelector("video-stream img") as HTMLImageElement | null;
          return !!img && img.naturalWidth === 640;
        },
        undefined,
        { timeout: 20_000, polling: 100 },
      );
      expect(consumerCount(server().hub, "demo")).toBe(1);
    });
    await waitFor("the MJPEG viewer to leave", () => consumerCount(server().hub, "demo") === 0, 10_000);
  }, 60_000);
});
