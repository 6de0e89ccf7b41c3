/**
 * The web player (go2rtc's player: WebRTC first, offer over `/api/ws`, its candidates trickled
 * after the offer) in headless Chromium, on a node whose balancer sends WebRTC viewers to another
 * node: the page and its WebSocket stay on the first node, the session and the media are the other
 * node's, and the browser plays. That node gets none of the browser's trickled candidates (they are
 * not passed on), so it must learn the browser's address from the browser's own checks. Two real
 * servers in this process stand in for the nodes; a test module plays the balancer's part
 * (tests/cluster/ runs the real cluster with werift viewers).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Module } from "../../server/modules/types.ts";
import { hasChromium, launchBrowser, whepInPage } from "../_support/browser.ts";
import { type DemoWebRtcServer, startDemoWebRtcServer } from "../webrtc/_peer.ts";

describe.skipIf(!hasChromium)("the web player on a node that balances WebRTC viewers to another node", () => {
  const servers: DemoWebRtcServer[] = [];
  let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;

  beforeAll(async () => {
    let other = "";
    const balancer: Module = {
      name: "test-balancer",
      init(ctx) {
        ctx.viewerRedirect!.webrtc = () => ({ api: other });
        ctx.viewerRedirect!.http = () => other;
        return Promise.resolve();
      },
    };
    // The other node first, so the balancer knows where to send viewers. It allows any origin
    // (api.origin "*"): a WHEP page of the first node reaches it through the redirect.
    servers.push(await startDemoWebRtcServer({ origin: "*" }));
    other = servers[0].base;
    servers.push(await startDemoWebRtcServer({}, [balancer]));
    browser = await launchBrowser();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.allSettled(servers.map((s) => s.close()));
  }, 30_000);

  const formats = (i: number) => ((servers[i].hub.get("demo")?.info().consumers ?? []) as { format: string }[]).map((c) => c.format);

  test("plays over WebRTC from the other node; the session there ends when the page closes", async () => {
    const [other, first] = servers;
    const page = await browser!.context.newPage();
    try {
      await page.goto(`${first.base}/stream.html?src=demo&mode=webrtc`, { timeout: 15_000 });
      await page.waitForFunction(
        () => /WEBRTC playing/.test(document.querySelector("video-stream .vs-status")?.textContent ?? ""),
        undefined,
        { timeout: 20_000, polling: 100 },
      );
      await page.waitForFunction(
        () => {
          const video = document.querySelector("video-stream video") as HTMLVideoElement;
          return video.videoWidth > 0 && video.currentTime > 1;
        },
        undefined,
        { timeout: 15_000, polling: 100 },
      );
      expect(formats(0)).toEqual(["webrtc"]); // the other node
      expect(formats(1)).toEqual([]); // the node the page and its WebSocket are on
      expect(other.base).not.toBe(first.base);
    } finally {
      await page.close();
    }
    const deadline = Date.now() + 10_000;
    while (formats(0).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(formats(0)).toEqual([]);
  }, 60_000);

  test("WHEP from a page of the first node: the 307 to the other origin is followed (CORS), and the page reads the session's Location there", async () => {
    const [other, first] = servers;
    const page = await browser!.context.newPage();
    try {
      await page.goto(`${first.base}/`, { timeout: 15_000 });
      const whep = await whepInPage(page, "/api/webrtc?src=demo", ["video"]);
      const frames = await page.evaluate(async () => {
        const pc = (window as unknown as { whep: RTCPeerConnection }).whep;
        const deadline = Date.now() + 15_000;
        let frames = 0;
        while (frames <= 10 && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 100));
          (await pc.getStats()).forEach((s) => {
            if (s.type === "inbound-rtp" && s.kind === "video") frames = s.framesDecoded ?? 0;
          });
        }
        return frames;
      });
      const result = { ...whep, frames };
      expect(result.status).toBe(201);
      expect(result.url.startsWith(other.base)).toBe(true);
      expect(result.location?.startsWith(`${other.base}/api/webrtc?id=`)).toBe(true);
      expect(result.frames).toBeGreaterThan(10);
      expect(formats(0)).toEqual(["webrtc"]);
      // The page ends the session with the Location it read, across origins.
      const deleted = await page.evaluate(async (location) => (await fetch(location, { method: "DELETE" })).status, result.location!);
      expect(deleted).toBe(200);
      expect(formats(0)).toEqual([]);
    } finally {
      await page.close();
    }
  }, 60_000);
});
