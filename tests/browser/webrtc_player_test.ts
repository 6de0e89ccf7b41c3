/**
 * WebRTC playback in a real browser: headless Chromium plays the demo stream through the web UI
 * (`stream.html`, whose player tries WebRTC first) and through WHEP (`POST /api/webrtc` with
 * `application/sdp`, then `DELETE` on the `Location`). Frames must decode (getStats framesDecoded
 * grows), the picture must not be blank, and closing the page or deleting the session must remove
 * the viewer from the stream within seconds.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { Page } from "playwright-core";
import { silentLogger } from "../../lib/core/log.ts";
import type { StreamHub } from "../../lib/core/hub.ts";
import { webrtcModule } from "../../server/modules/webrtc.ts";
import { startServer } from "../../server/server.ts";
import { hasChromium, launchBrowser, videoLumaVariance, whepInPage } from "../_support/browser.ts";

/** A server with the demo stream and the WebRTC module on loopback, and a headless Chromium. */
function serverAndBrowser() {
  let server: { base: string; hub: StreamHub; close(): Promise<void> } | undefined;
  let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;
  beforeAll(async () => {
    const s = await startServer({
      configSources: [JSON.stringify({ streams: { demo: "demo:" }, webrtc: { listen: "127.0.0.1:0" } })],
      listen: "127.0.0.1:0",
      handleSignals: false,
      log: silentLogger,
      modules: [webrtcModule],
    });
    server = { base: s.urls[0], hub: s.hub, close: () => s.close() };
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  }, 30_000);
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

function consumers(hub: StreamHub, name: string): { format: string }[] {
  return (hub.get(name)?.info().consumers ?? []) as { format: string }[];
}

async function waitFor(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Frames decoded by the page's video receiver, and the luma variance of its video element. */
async function videoState(page: Page, pcExpr: string) {
  const state = await page.evaluate(async (expr) => {
    const pc = (0, eval)(expr) as RTCPeerConnection;
    const video = document.querySelector("video") as HTMLVideoElement;
    let framesDecoded = 0;
    let codec = "";
    const stats = await pc.getStats();
    stats.forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "video") framesDecoded = s.framesDecoded ?? 0;
      if (s.type === "codec" && String(s.mimeType).startsWith("video/")) codec = s.mimeType;
    });
    return { framesDecoded, codec, width: video.videoWidth, height: video.videoHeight };
  }, pcExpr);
  return { ...state, variance: await videoLumaVariance(page) };
}

describe.skipIf(!hasChromium)("WebRTC in headless Chromium", () => {
  const { server, withPage } = serverAndBrowser();

  it("the web player plays the demo stream over WebRTC first", async () => {
    await withPage(async (page) => {
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      // Keep a handle on the player's peer connection for getStats.
      await page.addInitScript(() => {
        const Native = globalThis.RTCPeerConnection;
        (window as unknown as { pcs: RTCPeerConnection[] }).pcs = [];
        globalThis.RTCPeerConnection = function (this: unknown, ...args: ConstructorParameters<typeof Native>) {
          const pc = new Native(...args);
          (window as unknown as { pcs: RTCPeerConnection[] }).pcs.push(pc);
          return pc;
        } as unknown as typeof RTCPeerConnection;
        globalThis.RTCPeerConnection.prototype = Native.prototype;
      });
      await page.goto(`${server().base}/stream.html?src=demo`, { timeout: 15_000 });
      await page.waitForFunction(
        () => /WEBRTC playing/.test(document.querySelector("video-stream .vs-status")?.textContent ?? ""),
        undefined,
        { timeout: 20_000, polling: 100 },
      );
      expect(await page.textContent("video-stream .vs-status")).toContain("H264");
      await page.waitForFunction(
        () => (document.querySelector("video-stream video") as HTMLVideoElement).videoWidth > 0,
        undefined,
        { timeout: 10_000, polling: 100 },
      );
      const first = await videoState(page, "window.pcs[0]");
      await page.waitForTimeout(1500);
      const later = await videoState(page, "window.pcs[0]");
      expect(later.framesDecoded).toBeGreaterThan(first.framesDecoded);
      expect(later.framesDecoded).toBeGreaterThan(10);
      expect(later.codec).toBe("video/H264");
      expect(later.width).toBe(640);
      expect(later.height).toBe(360);
      expect(later.variance).toBeGreaterThan(100);
      expect(errors).toEqual([]);
      // The player offers audio: the demo's AAC reaches it as Opus from the shared transcoder
      // (tests/browser/webrtc_audio_test.ts checks the sound).
      expect(consumers(server().hub, "demo").map((c) => c.format).sort()).toEqual(["opus-transcoder", "webrtc"]);
    });
    // The page closed: the WebSocket, and the session with it, must go away.
    await waitFor("the WebRTC viewer to be removed", () => consumers(server().hub, "demo").length === 0, 10_000);
  }, 60_000);

  it("/api/ws: the JSON form (go2rtc API v2) connects; a bad offer gets an error message", async () => {
    await withPage(async (page) => {
      await page.goto(`${server().base}/`, { timeout: 15_000 });
      const got = await page.evaluate(async () => {
        const ws = new WebSocket(`${location.origin.replace("http", "ws")}/api/ws?src=demo`);
        const texts: string[] = [];
        ws.onmessage = (ev) => texts.push(String(ev.data));
        await new Promise((r) => (ws.onopen = r));
        ws.send(JSON.stringify({ type: "webrtc/offer", value: "not an sdp" }));
        const pc = new RTCPeerConnection();
        pc.addTransceiver("video", { direction: "recvonly" });
        pc.onicecandidate = (ev) =>
          ws.send(JSON.stringify({ type: "webrtc/candidate", value: ev.candidate ? ev.candidate.candidate : "" }));
        await pc.setLocalDescription(await pc.createOffer());
        ws.send(JSON.stringify({ type: "webrtc", value: { type: "offer", sdp: pc.localDescription!.sdp } }));
        const deadline = Date.now() + 10_000;
        let answered = false;
        while (Date.now() < deadline && pc.connectionState !== "connected") {
          for (const t of texts) {
            const m = JSON.parse(t);
            if (m.type === "webrtc" && !answered) {
              answered = true;
              await pc.setRemoteDescription(m.value);
            } else if (m.type === "webrtc/candidate" && answered && m.value) {
              await pc.addIceCandidate({ candidate: m.value, sdpMid: "0" }).catch(() => {});
            }
          }
          await new Promise((r) => setTimeout(r, 100));
        }
        const state = pc.connectionState;
        pc.close();
        ws.close();
        return { texts, state };
      });
      const messages = got.texts.map((t) => JSON.parse(t));
      expect(messages[0].type).toBe("error");
      expect(messages[0].value).toContain('must start with "v=0"');
      const answer = messages.find((m) => m.type === "webrtc");
      expect(answer.value.type).toBe("answer");
      expect(answer.value.sdp).toContain("H264/90000");
      expect(got.state).toBe("connected");
    });
    await waitFor("the viewer to leave with the socket", () => consumers(server().hub, "demo").length === 0, 10_000);
  }, 40_000);

  it("WHEP: 201 with Location, plays, and DELETE ends the session", async () => {
    await withPage(async (page) => {
      await page.goto(`${server().base}/`, { timeout: 15_000 });
      const result = await whepInPage(page, "api/webrtc?src=demo", ["video", "audio"]);
      expect(result.status).toBe(201);
      expect(result.type).toContain("application/sdp");
      expect(result.location).toMatch(/^webrtc\?id=[0-9a-f-]+$/);
      // Non-trickle: the answer carries its candidates.
      expect(result.answer).toMatch(/a=candidate:.* 127\.0\.0\.1 \d+ typ host/);
      await page.waitForFunction(
        () => (document.querySelector("video") as HTMLVideoElement).videoWidth > 0,
        undefined,
        { timeout: 15_000, polling: 100 },
      );
      const first = await videoState(page, "window.whep");
      await page.waitForTimeout(1500);
      const later = await videoState(page, "window.whep");
      expect(later.framesDecoded).toBeGreaterThan(first.framesDecoded);
      expect(later.variance).toBeGreaterThan(100);
      expect(consumers(server().hub, "demo").filter((c) => c.format === "webrtc").length).toBe(1);

      const status = await page.evaluate(async (location) => {
        // Location is relative to the POST's URL, as in go2rtc ("webrtc?id=...").
        const res = await fetch(new URL(location, new URL("api/webrtc", document.baseURI)), { method: "DELETE" });
        return res.status;
      }, result.location!);
      expect(status).toBe(200);
      await waitFor("the WHEP viewer to be removed", () => consumers(server().hub, "demo").length === 0, 5_000);
      // The browser notices that the server went away.
      await page.waitForFunction(
        () => {
          const s = (window as unknown as { whep: RTCPeerConnection }).whep.connectionState;
          return s === "failed" || s === "disconnected" || s === "closed";
        },
        undefined,
        { timeout: 45_000, polling: 200 },
      );
    });
  }, 90_000);
});
