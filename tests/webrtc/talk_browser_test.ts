/**
 * Two-way audio from a real browser: headless Chromium with its fake microphone
 * (`--use-fake-device-for-media-stream --use-fake-ui-for-media-stream`) opens the web UI player of a
 * stream whose source is an RTSP test camera with an ONVIF backchannel, clicks the talk button, and
 * the camera's speaker receives RTP that ffmpeg decodes as A-law audio. The same camera behind a
 * source with `#backchannel=0` receives nothing, and the player says why. The talk button keeps
 * talking across a reconnect of the camera, and says so when the camera comes back without a
 * backchannel.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { Page } from "playwright-core";
import { silentLogger } from "../../lib/core/log.ts";
import type { StreamHub } from "../../lib/core/hub.ts";
import { webrtcModule } from "../../server/modules/webrtc.ts";
import { startServer } from "../../server/server.ts";
import { BackchannelCamera } from "../_support/backchannel_camera.ts";
import { hasChromium, launchBrowser } from "../_support/browser.ts";
import { ffmpeg } from "../_support/ffmpeg.ts";
import { concatBytes, hasTool } from "../_support/process.ts";
import { until } from "./_peer.ts";

const hasFfmpeg = await hasTool("ffmpeg");

describe.skipIf(!hasChromium || !hasFfmpeg)("two-way audio from Chromium's microphone (needs chromium and ffmpeg)", () => {
  let camera: BackchannelCamera;
  let server: { base: string; hub: StreamHub; close(): Promise<void> } | undefined;
  let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;
  beforeAll(async () => {
    camera = await new BackchannelCamera().start();
    const s = await startServer({
      configSources: [JSON.stringify({
        streams: { door: camera.url, quiet: `${camera.url}#backchannel=0` },
        webrtc: { listen: "127.0.0.1:0" },
      })],
      listen: "127.0.0.1:0",
      handleSignals: false,
      log: silentLogger,
      modules: [webrtcModule],
    });
    server = { base: s.urls[0], hub: s.hub, close: () => s.close() };
    browser = await launchBrowser(["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await camera?.close();
  }, 30_000);

  const withPage = async (fn: (page: Page) => Promise<void>): Promise<void> => {
    const page = await browser!.context.newPage();
    try {
      await fn(page);
    } finally {
      await page.close();
    }
  };
  const consumers = (name: string) => (server!.hub.get(name)?.info().consumers ?? []) as { medias?: string[] }[];
  const openPlayer = async (page: Page, src: string) => {
    await page.goto(`${server!.base}/stream.html?src=${src}`, { timeout: 15_000 });
    await page.waitForFunction(
      () => /WEBRTC playing/.test(document.querySelector("video-stream .vs-status")?.textContent ?? ""),
      undefined,
      { timeout: 20_000, polling: 100 },
    );
  };

  it("the talk button sends the microphone to the camera's backchannel as decodable A-law", async () => {
    await withPage(async (page) => {
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      await openPlayer(page, "door");
      expect(camera.speakerPackets.length).toBe(0);
      await page.click("video-stream .vs-talk");
      await page.waitForFunction(
        () => document.querySelector("video-stream .vs-talk")?.getAttribute("aria-pressed") === "true" &&
          /WEBRTC playing/.test(document.querySelector("video-stream .vs-status")?.textContent ?? ""),
        undefined,
        { timeout: 20_000, polling: 100 },
      );
      expect(await page.textContent("video-stream .vs-talk")).toBe("Stop talking");
      // The viewer now lists the microphone: Chromium sends PCMA, which the camera takes as is.
      await until("the microphone on the viewer", () => consumers("door").some((c) => (c.medias ?? []).some((m) => /recvonly/.test(m))), 10_000);
      expect(consumers("door").flatMap((c) => c.medias ?? []).filter((m) => /recvonly/.test(m))).toEqual([
        "audio, recvonly, PCMA/8000",
      ]);
      await until("2 s of audio at the camera", () => camera.speakerPackets.length >= 100, 15_000);
      const packets = camera.speakerPackets.slice();
      expect(new Set(packets.map((p) => p.payloadType))).toEqual(new Set([8]));
      for (let i = 1; i < packets.length; i++) {
        expect((packets[i].sequenceNumber - packets[i - 1].sequenceNumber) & 0xffff).toBe(1);
      }
      const alaw = concatBytes(packets.map((p) => p.payload));
      const res = await ffmpeg(["-f", "alaw", "-ar", "8000", "-ac", "1", "-i", "pipe:0", "-f", "s16le", "pipe:1"], 15_000, alaw);
      expect(res.code).toBe(0);
      const samples = new Int16Array(res.stdout.buffer.slice(res.stdout.byteOffset, res.stdout.byteOffset + (res.stdout.length & ~1)));
      expect(samples.length / 8000).toBeGreaterThan(1.9);
      // Chromium's fake microphone beeps: the decoded audio is not silence.
      let peak = 0;
      for (const v of samples) peak = Math.max(peak, Math.abs(v));
      expect(peak).toBeGreaterThan(1000);

      // Talk off: WebRTC again without the microphone; the camera's speaker goes quiet.
      await page.click("video-stream .vs-talk");
      await page.waitForFunction(
        () => document.querySelector("video-stream .vs-talk")?.getAttribute("aria-pressed") === "false" &&
          /WEBRTC playing/.test(document.querySelector("video-stream .vs-status")?.textContent ?? ""),
        undefined,
        { timeout: 20_000, polling: 100 },
      );
      await until("the microphone to leave", () => !consumers("door").some((c) => (c.medias ?? []).some((m) => /recvonly/.test(m))), 10_000);
      await new Promise((r) => setTimeout(r, 300));
      const after = camera.speakerPackets.length;
      await new Promise((r) => setTimeout(r, 700));
      expect(camera.speakerPackets.length).toBe(after);
      expect(errors).toEqual([]);
    });
    await until("the viewer to leave with the page", () => consumers("door").length === 0, 10_000);
  }, 90_000);

  it("the talk button keeps talking across a camera reconnect; a camera back without a backchannel is shown on the button", async () => {
    const plays = () => camera.requests.filter((r) => r.method === "PLAY").length;
    const talking = () =>
      document.querySelector("video-stream .vs-talk")?.getAttribute("aria-pressed") === "true" &&
      /WEBRTC playing/.test(document.querySelector("video-stream .vs-status")?.textContent ?? "");
    await withPage(async (page) => {
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      await openPlayer(page, "door");
      await page.click("video-stream .vs-talk");
      await page.waitForFunction(talking, undefined, { timeout: 20_000, polling: 100 });
      const start = camera.speakerPackets.length;
      await until("audio at the camera", () => camera.speakerPackets.length >= start + 25, 15_000);
      const firstSsrc = camera.speakerPackets[camera.speakerPackets.length - 1].ssrc;

      // The camera's connection drops; strom reconnects (1 s later) and the microphone is heard again.
      const before = plays();
      camera.dropConnections();
      await until("strom to reconnect to the camera", () => plays() > before, 15_000);
      await until("audio on the camera's new session", () => camera.speakerPackets.some((p) => p.ssrc !== firstSsrc), 10_000);
      const mark = camera.speakerPackets.length;
      await until("1 s more of audio", () => camera.speakerPackets.length >= mark + 50, 10_000);
      const packets = camera.speakerPackets.slice(mark);
      expect(new Set(packets.map((p) => p.ssrc)).size).toBe(1);
      expect(packets[0].ssrc).not.toBe(firstSsrc);
      const alaw = concatBytes(packets.map((p) => p.payload));
      const res = await ffmpeg(["-f", "alaw", "-ar", "8000", "-ac", "1", "-i", "pipe:0", "-f", "s16le", "pipe:1"], 15_000, alaw);
      expect(res.code).toBe(0);
      const samples = new Int16Array(res.stdout.buffer.slice(res.stdout.byteOffset, res.stdout.byteOffset + (res.stdout.length & ~1)));
      let peak = 0;
      for (const v of samples) peak = Math.max(peak, Math.abs(v));
      expect(peak).toBeGreaterThan(1000);
      expect(await page.evaluate(talking)).toBe(true);

      // Two-way audio turned off in the camera: after the next reconnect the button says so.
      camera.options.backchannel = "refuse";
      try {
        camera.dropConnections();
        await page.waitForFunction(
          () => /two-way audio/.test(document.querySelector("video-stream .vs-talk")?.getAttribute("title") ?? ""),
          undefined,
          { timeout: 20_000, polling: 100 },
        );
        expect(await page.getAttribute("video-stream .vs-talk", "aria-pressed")).toBe("false");
        expect(await page.textContent("video-stream .vs-status")).toMatch(/WEBRTC playing/);
      } finally {
        camera.options.backchannel = "accept";
      }
      expect(errors).toEqual([]);
    });
    await until("the viewer to leave with the page", () => consumers("door").length === 0, 10_000);
  }, 90_000);

  it("#backchannel=0: the camera gets nothing and the player says the source takes no audio", async () => {
    const before = camera.speakerPackets.length;
    await withPage(async (page) => {
      await openPlayer(page, "quiet");
      await page.click("video-stream .vs-talk");
      await page.waitForFunction(
        () => /no backchannel/.test(document.querySelector("video-stream .vs-talk")?.getAttribute("title") ?? ""),
        undefined,
        { timeout: 20_000, polling: 100 },
      );
      await page.waitForFunction(
        () => /WEBRTC playing/.test(document.querySelector("video-stream .vs-status")?.textContent ?? ""),
        undefined,
        { timeout: 20_000, polling: 100 },
      );
      await new Promise((r) => setTimeout(r, 1500));
      expect(camera.speakerPackets.length).toBe(before);
      expect(consumers("quiet").flatMap((c) => c.medias ?? []).some((m) => /recvonly/.test(m))).toBe(false);
    });
  }, 60_000);
});
