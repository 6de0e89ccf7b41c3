/**
 * Sound in a real browser from an AAC-only stream: headless Chromium plays the demo stream (H.264 +
 * AAC) through the web UI's player and through WHEP, and hears it: strom hands it Opus made by the
 * shared transcoder, and getStats shows the audio receiver decoding samples (totalSamplesReceived
 * grows, mostly not concealed) with a level above silence, while the video keeps decoding.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { Page } from "playwright-core";
import { silentLogger } from "../../lib/core/log.ts";
import type { StreamHub } from "../../lib/core/hub.ts";
import { webrtcModule } from "../../server/modules/webrtc.ts";
import { startServer } from "../../server/server.ts";
import { hasChromium, launchBrowser, whepInPage } from "../_support/browser.ts";
import { hasEncoder } from "../_support/ffmpeg.ts";

const hasOpus = await hasEncoder("libopus").catch(() => false);

function formats(hub: StreamHub, name: string): string[] {
  return ((hub.get(name)?.info().consumers ?? []) as { format: string }[]).map((c) => c.format).sort();
}

async function waitFor(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface AudioStats {
  samples: number;
  concealed: number;
  level: number;
  energy: number;
  codec: string;
  framesDecoded: number;
}

/** In the page: the audio receiver's counters and the video frames decoded, from getStats. */
function audioStats(page: Page, pcExpr: string): Promise<AudioStats> {
  return page.evaluate(async (expr) => {
    const pc = (0, eval)(expr) as RTCPeerConnection;
    const out = { samples: 0, concealed: 0, level: 0, energy: 0, codec: "", framesDecoded: 0 };
    (await pc.getStats()).forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "audio") {
        out.samples = s.totalSamplesReceived ?? 0;
        out.concealed = s.concealedSamples ?? 0;
        out.level = s.audioLevel ?? 0;
        out.energy = s.totalAudioEnergy ?? 0;
      }
      if (s.type === "inbound-rtp" && s.kind === "video") out.framesDecoded = s.framesDecoded ?? 0;
      if (s.type === "codec" && String(s.mimeType).startsWith("audio/")) out.codec = s.mimeType;
    });
    return out;
  }, pcExpr);
}

/**
 * Two readings 2 s apart: samples decoded, mostly real (not concealment), and, when the page plays
 * them unmuted, above silence (Chromium reports no energy for a muted element's audio).
 */
async function expectSound(page: Page, pcExpr: string, audible: boolean): Promise<void> {
  await page.waitForFunction(
    async (expr) => {
      const pc = (0, eval)(expr) as RTCPeerConnection;
      let n = 0;
      (await pc.getStats()).forEach((s) => {
        if (s.type === "inbound-rtp" && s.kind === "audio") n = s.totalSamplesReceived ?? 0;
      });
      return n > 0;
    },
    pcExpr,
    { timeout: 15_000, polling: 200 },
  );
  const first = await audioStats(page, pcExpr);
  await page.waitForTimeout(2000);
  const later = await audioStats(page, pcExpr);
  expect(later.codec).toBe("audio/opus");
  const samples = later.samples - first.samples;
  const concealed = later.concealed - first.concealed;
  expect(samples).toBeGreaterThan(48000); // more than 1 s of the 2 s
  expect(concealed / samples).toBeLessThan(0.3);
  if (audible) expect(later.energy).toBeGreaterThan(first.energy); // the demo clip's beep, not silence
  expect(later.framesDecoded).toBeGreaterThan(first.framesDecoded);
}

describe.skipIf(!hasChromium || !hasOpus)("Opus from an AAC stream in headless Chromium", () => {
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

  async function withPage(fn: (page: Page) => Promise<void>): Promise<void> {
    const page = await browser!.context.newPage();
    try {
      await fn(page);
    } finally {
      await page.close();
    }
  }

  it("the web player plays the demo stream with sound", async () => {
    await withPage(async (page) => {
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
      await page.goto(`${server!.base}/stream.html?src=demo`, { timeout: 15_000 });
      await page.waitForFunction(
        () => /WEBRTC playing/.test(document.querySelector("video-stream .vs-status")?.textContent ?? ""),
        undefined,
        { timeout: 20_000, polling: 100 },
      );
      // The player starts muted (autoplay needs it): samples are decoded, their level is not measured.
      await expectSound(page, "window.pcs[0]", false);
      // One shared transcoder beside the viewer.
      expect(formats(server!.hub, "demo")).toEqual(["opus-transcoder", "webrtc"]);
    });
    await waitFor("the viewer and the transcoder to go", () => formats(server!.hub, "demo").length === 0, 10_000);
  }, 60_000);

  it("WHEP with an audio transceiver gets sound", async () => {
    await withPage(async (page) => {
      await page.goto(`${server!.base}/`, { timeout: 15_000 });
      const whep = await whepInPage(page, "api/webrtc?src=demo", ["video", "audio"]);
      expect(whep.status).toBe(201);
      await expectSound(page, "window.whep", true);
      const deleted = await page.evaluate(async (location) => {
        const res = await fetch(new URL(location, new URL("api/webrtc", document.baseURI)), { method: "DELETE" });
        return res.status;
      }, whep.location!);
      expect(deleted).toBe(200);
    });
    await waitFor("the viewer and the transcoder to go", () => formats(server!.hub, "demo").length === 0, 10_000);
  }, 60_000);
});
