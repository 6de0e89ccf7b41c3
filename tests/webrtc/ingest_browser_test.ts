/**
 * A browser publishes its camera and microphone to strom through go2rtc's WebSocket signalling
 * (`/api/ws?dst=cam`: `webrtc/offer` → `webrtc/answer`, `webrtc/candidate` both ways), as go2rtc's
 * webrtc.html does: headless Chromium's fake camera (`--use-fake-device-for-media-stream`) is the
 * publisher, and ffprobe decodes the video back from strom over RTSP. Closing the page removes the
 * publisher from the stream.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createLogger, silentLogger } from "../../lib/core/log.ts";
import type { StreamHub } from "../../lib/core/hub.ts";
import { rtspModule } from "../../server/modules/rtsp.ts";
import { webrtcModule } from "../../server/modules/webrtc.ts";
import { type RunningServer, startServer } from "../../server/server.ts";
import { hasChromium, launchBrowser } from "../_support/browser.ts";
import { ffprobe } from "../_support/ffmpeg.ts";
import { freePort } from "../_support/net.ts";
import { hasTool } from "../_support/process.ts";
import { until } from "./_peer.ts";

const hasFfprobe = await hasTool("ffprobe");

let server: RunningServer;
let hub: StreamHub;
let rtspPort = 0;
let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;

type Page = Awaited<ReturnType<NonNullable<typeof browser>["context"]["newPage"]>>;

/**
 * Publishes the page's fake camera (and microphone with `audio`) to `dst` over /api/ws as go2rtc's
 * webrtc.html does; keeps the peer connection as `globalThis.publisher`. Returns the answer and offer.
 */
function publishCamera(page: Page, dst: string, audio: boolean): Promise<{ answer: string; offered: string }> {
  return page.evaluate(async ({ dst, audio }) => {
    const media = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio });
    const pc = new RTCPeerConnection();
    for (const track of media.getTracks()) pc.addTransceiver(track, { direction: "sendonly", streams: [media] });
    const ws = new WebSocket(`${location.origin.replace("http", "ws")}/api/ws?dst=${dst}`);
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = () => reject(new Error("WebSocket failed"));
    });
    const answered = new Promise<string>((resolve, reject) => {
      ws.onmessage = (event) => {
        const msg = JSON.parse(event.data);
        if (msg.type === "webrtc/answer") {
          pc.setRemoteDescription({ type: "answer", sdp: msg.value }).then(() => resolve(msg.value), reject);
        } else if (msg.type === "webrtc/candidate") {
          pc.addIceCandidate({ candidate: msg.value, sdpMid: "0" }).catch(() => {});
        } else if (msg.type === "error") {
          reject(new Error(msg.value));
        }
      };
    });
    pc.onicecandidate = (event) => {
      if (event.candidate) ws.send(JSON.stringify({ type: "webrtc/candidate", value: event.candidate.candidate }));
    };
    await pc.setLocalDescription(await pc.createOffer());
    ws.send(JSON.stringify({ type: "webrtc/offer", value: pc.localDescription!.sdp }));
    const answer = await answered;
    (globalThis as unknown as { publisher: RTCPeerConnection }).publisher = pc;
    return { answer, offered: pc.localDescription!.sdp };
  }, { dst, audio });
}

/** The publisher's video send rate over `ms` (kbit/s, from getStats bytesSent) and its encoder's target. */
function sendRate(page: Page, ms: number): Promise<{ kbps: number; targetBps: number }> {
  return page.evaluate(async (ms) => {
    const pc = (globalThis as unknown as { publisher: RTCPeerConnection }).publisher;
    // Two samples ms apart (no named helper inside: the page has no bundler's __name).
    const samples: { bytesSent: number; targetBitrate: number; t: number }[] = [];
    for (let i = 0; i < 2; i++) {
      if (i) await new Promise((r) => setTimeout(r, ms));
      (await pc.getStats()).forEach((r) => {
        if (r.type === "outbound-rtp" && r.kind === "video") samples.push({ bytesSent: r.bytesSent, targetBitrate: r.targetBitrate ?? 0, t: r.timestamp });
      });
    }
    const [a, b] = samples;
    return { kbps: ((b.bytesSent - a.bytesSent) * 8) / (b.t - a.t), targetBps: b.targetBitrate };
  }, ms);
}

describe.skipIf(!hasChromium || !hasFfprobe)("Chromium publishes its camera over /api/ws?dst= (needs chromium, ffprobe)", () => {
  beforeAll(async () => {
    rtspPort = await freePort();
    server = await startServer({
      configSources: [JSON.stringify({
        streams: { cam: [] },
        rtsp: { listen: `127.0.0.1:${rtspPort}` },
        webrtc: { listen: "127.0.0.1:0" },
      })],
      listen: "127.0.0.1:0",
      handleSignals: false,
      log: process.env.INGEST_DEBUG ? createLogger({ level: "debug" }) : silentLogger,
      modules: [rtspModule, webrtcModule],
    });
    hub = server.hub;
    browser = await launchBrowser(["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  }, 30_000);

  const producers = () => hub.get("cam")?.info().producers?.length ?? 0;

  test("the fake camera is decoded back over RTSP; closing the page ends the publish", async () => {
    const page = await browser!.context.newPage();
    try {
      await page.goto(`${server.urls[0]}/`);
      const state = await publishCamera(page, "cam", true);
      // strom picked H.264 and Opus from Chromium's list and answered them recvonly.
      expect(state.answer).toMatch(/a=rtpmap:\d+ H264\/90000/);
      expect(state.answer).toMatch(/a=rtpmap:\d+ opus\/48000/i);
      expect(state.answer).toContain("a=recvonly");
      await until("the browser to join the stream as its publisher", () => producers() === 1, 15_000);

      const probe = await ffprobe(
        `rtsp://127.0.0.1:${rtspPort}/cam`,
        ["-rtsp_transport", "tcp", "-count_frames", "-read_intervals", "%+3", "-select_streams", "v"],
        25_000,
      );
      const video = probe.streams.find((s) => s.codec_type === "video");
      expect(video?.codec_name).toBe("h264");
      expect(video?.width).toBeGreaterThan(0);
      expect(Number(video?.nb_read_frames)).toBeGreaterThan(10);
      const info = hub.get("cam")!.info().producers as { connection?: { protocol?: string; medias?: string[] } }[];
      expect(info[0].connection?.protocol).toBe("ws");
      expect(info[0].connection?.medias?.join(" ")).toContain("OPUS");
    } finally {
      await page.close();
    }
    // The page (and its WebSocket) closed: the publisher leaves the stream.
    await until("the publisher to leave", () => producers() === 0, 15_000);
  }, 90_000);
});

describe.skipIf(!hasChromium)("webrtc.bandwidth tells a browser publisher how fast to send (needs chromium)", () => {
  const servers: RunningServer[] = [];
  let chromium: Awaited<ReturnType<typeof launchBrowser>> | undefined;

  /** A server with stream cam; `bandwidth` as webrtc.bandwidth when given. */
  async function serve(bandwidth?: Record<string, string>): Promise<RunningServer> {
    const started = await startServer({
      configSources: [JSON.stringify({
        streams: { cam: [] },
        rtsp: { listen: "" },
        webrtc: { listen: "127.0.0.1:0", ...(bandwidth ? { bandwidth } : {}) },
      })],
      listen: "127.0.0.1:0",
      handleSignals: false,
      log: silentLogger,
      modules: [webrtcModule],
    });
    servers.push(started);
    return started;
  }

  beforeAll(async () => {
    chromium = await launchBrowser(["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]);
  }, 60_000);

  afterAll(async () => {
    await chromium?.close();
    await Promise.all(servers.map((s) => s.close()));
  }, 30_000);

  /** Publishes to `on`, waits for the browser to send, and measures its video rate over 4 s. */
  async function measured(on: RunningServer): Promise<{ answer: string; kbps: number; targetBps: number }> {
    const page = await chromium!.context.newPage();
    try {
      await page.goto(`${on.urls[0]}/`);
      const { answer } = await publishCamera(page, "cam", false);
      await until("the browser to publish", () => (on.hub.get("cam")?.info().producers?.length ?? 0) === 1, 15_000);
      // Past the start, where an uncapped encoder is already above the cap below.
      await new Promise((r) => setTimeout(r, 3000));
      return { answer, ...(await sendRate(page, 4000)) };
    } finally {
      await page.close();
    }
  }

  test("max 150k: the answer says so and Chrome's encoder stays under it; without it, the same camera goes above", async () => {
    const capped = await measured(await serve({ max: "150k", start: "100k" }));
    expect(capped.answer).toMatch(/^b=AS:150\r?$/m);
    expect(capped.answer).toMatch(/^b=TIAS:150000\r?$/m);
    expect(capped.answer).toMatch(/^a=fmtp:\d+ .*x-google-start-bitrate=100;x-google-max-bitrate=150\r?$/m);
    expect(capped.targetBps).toBeGreaterThan(0);
    expect(capped.targetBps).toBeLessThanOrEqual(150_000);
    expect(capped.kbps).toBeLessThan(150 * 1.3);

    const free = await measured(await serve());
    expect(free.answer).not.toContain("b=AS:");
    expect(free.targetBps).toBeGreaterThan(150_000);
  }, 90_000);
});
