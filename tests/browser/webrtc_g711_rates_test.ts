/**
 * G.711 at a rate browsers do not play, in a real browser: a stream whose audio is PCMA at 16 kHz
 * (a 440 Hz tone pushed by the test) played by headless Chromium over WHEP. strom converts it to
 * PCMA at 8 kHz for the page, and getStats shows the audio receiver on `audio/PCMA` decoding
 * samples, mostly not concealed, with a level above silence.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { Page } from "playwright-core";
import { audioMedia, MemoryProducer } from "../../lib/core/_testing.ts";
import { silentLogger } from "../../lib/core/log.ts";
import type { StreamHub } from "../../lib/core/hub.ts";
import { encodeAlaw } from "../../lib/codec/g711/companding.ts";
import { webrtcModule } from "../../server/modules/webrtc.ts";
import { startServer } from "../../server/server.ts";
import { hasChromium, launchBrowser, whepInPage } from "../_support/browser.ts";

/** 20 ms of a 440 Hz tone at 16 kHz as A-law (320 bytes), continuing from sample `n`. */
function toneFrame(n: number): Uint8Array {
  const samples = new Int16Array(320);
  for (let i = 0; i < 320; i++) samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * (n + i)) / 16000));
  return encodeAlaw(samples);
}

describe.skipIf(!hasChromium)("PCMA at 16 kHz in headless Chromium (needs chromium)", () => {
  let server: { base: string; hub: StreamHub; close(): Promise<void> } | undefined;
  let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  beforeAll(async () => {
    const s = await startServer({
      configSources: [JSON.stringify({ webrtc: { listen: "127.0.0.1:0" } })],
      listen: "127.0.0.1:0",
      handleSignals: false,
      log: silentLogger,
      modules: [webrtcModule],
    });
    server = { base: s.urls[0], hub: s.hub, close: () => s.close() };
    // A publisher of PCMA/16000 (as a camera or `ffmpeg:...#audio=pcma/16000` would send it), 20 ms a tick.
    const producer = new MemoryProducer([audioMedia("recvonly", { name: "PCMA", clockRate: 16000, payloadType: 96 })]);
    await s.hub.set("tone16k", []).addPublisher(producer);
    // Paced by the clock, not by the timer's ticks: a late tick sends what is due, as a camera would.
    let n = 0;
    const start = performance.now();
    timer = setInterval(() => {
      const due = Math.floor((performance.now() - start) / 20) * 320;
      for (; n <= due; n += 320) producer.push("audio", { timestamp: n >>> 0, keyframe: true, data: toneFrame(n) });
    }, 20);
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    clearInterval(timer);
    await browser?.close();
    await server?.close();
  }, 30_000);

  async function stats(page: Page): Promise<{ samples: number; concealed: number; energy: number; codec: string }> {
    return await page.evaluate(async () => {
      const pc = (window as unknown as { whep: RTCPeerConnection }).whep;
      const out = { samples: 0, concealed: 0, energy: 0, codec: "" };
      (await pc.getStats()).forEach((s) => {
        if (s.type === "inbound-rtp" && s.kind === "audio") {
          out.samples = s.totalSamplesReceived ?? 0;
          out.concealed = s.concealedSamples ?? 0;
          out.energy = s.totalAudioEnergy ?? 0;
        }
        if (s.type === "codec" && String(s.mimeType).startsWith("audio/")) out.codec = s.mimeType;
      });
      return out;
    });
  }

  it("WHEP gets it as PCMA at 8 kHz, with sound", async () => {
    const page = await browser!.context.newPage();
    try {
      await page.goto(`${server!.base}/`, { timeout: 15_000 });
      expect((await whepInPage(page, "api/webrtc?src=tone16k", ["audio"])).status).toBe(201);
      await page.waitForFunction(
        async () => {
          const pc = (window as unknown as { whep: RTCPeerConnection }).whep;
          let n = 0;
          (await pc.getStats()).forEach((s) => {
            if (s.type === "inbound-rtp" && s.kind === "audio") n = s.totalSamplesReceived ?? 0;
          });
          return n > 0;
        },
        undefined,
        { timeout: 15_000, polling: 200 },
      );
      const first = await stats(page);
      await page.waitForTimeout(2000);
      const later = await stats(page);
      expect(later.codec).toBe("audio/PCMA");
      const samples = later.samples - first.samples;
      expect(samples).toBeGreaterThan(8000); // more than 1 s of the 2 s at 8 kHz, whatever rate Chromium counts in
      // Mostly real samples; the bound leaves room for a loaded machine's timer jitter at the source.
      expect((later.concealed - first.concealed) / samples).toBeLessThan(0.5);
      expect(later.energy).toBeGreaterThan(first.energy); // the tone, not silence
      const medias = ((server!.hub.get("tone16k")?.info().consumers ?? []) as { medias?: string[] }[])
        .flatMap((c) => c.medias ?? []);
      expect(medias).toContain("audio, sendonly, PCMA/8000");
    } finally {
      await page.close();
    }
  }, 60_000);
});
