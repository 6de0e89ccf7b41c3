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

/**
 * The luma variance of the picture `selector`'s video shows now, drawn into a 64x36 canvas in the
 * page: near 0 for a blank (black, grey) picture, in the hundreds or more for real video.
 */
export async function videoLumaVariance(page: import("playwright-core").Page, selector = "video"): Promise<number> {
  return await page.evaluate((sel) => {
    const video = document.querySelector(sel) as HTMLVideoElement;
    const canvas = document.createElement("canvas");
    canvas.width = 64;
    canvas.height = 36;
    const g = canvas.getContext("2d")!;
    g.drawImage(video, 0, 0, canvas.width, canvas.height);
    const px = g.getImageData(0, 0, canvas.width, canvas.height).data;
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < px.length; i += 4) {
      const y = 0.299 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2];
      sum += y;
      sumSq += y * y;
    }
    const n = px.length / 4;
    return sumSq / n - (sum / n) * (sum / n);
  }, selector);
}

/** What {@link whepInPage} saw. */
export interface WhepInPage {
  status: number;
  /** The answer's Content-Type, Location and final URL (after redirects). */
  type: string | null;
  location: string | null;
  url: string;
  answer: string;
  /** The page's offer, candidates included. */
  offer: string;
}

/**
 * Plays `url` (e.g. `api/webrtc?src=demo`, relative to the page) over WHEP from inside `page`, as
 * a browser app would: a `recvonly` transceiver per kind, ICE gathering awaited (at most 3 s), the
 * offer POSTed as `application/sdp`, a 201's answer applied. The peer connection is `window.whep`;
 * its tracks play in a muted `<video>` and an `<audio>` appended to the page.
 *
 * @example
 * ```ts
 * const r = await whepInPage(page, "api/webrtc?src=demo", ["video"]);
 * expect(r.status).toBe(201);
 * ```
 */
export async function whepInPage(
  page: import("playwright-core").Page,
  url: string,
  kinds: readonly ("video" | "audio")[],
): Promise<WhepInPage> {
  return await page.evaluate(async ([url, kinds]) => {
    const pc = new RTCPeerConnection();
    (window as unknown as { whep: RTCPeerConnection }).whep = pc;
    for (const kind of kinds) pc.addTransceiver(kind, { direction: "recvonly" });
    const video = document.createElement("video");
    video.muted = true;
    video.autoplay = true;
    const audio = document.createElement("audio");
    audio.autoplay = true;
    document.body.append(video, audio);
    pc.ontrack = (ev) => {
      const el = ev.track.kind === "audio" ? audio : video;
      el.srcObject = new MediaStream([ev.track]);
      el.play().catch(() => {});
    };
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise<void>((resolve) => {
      if (pc.iceGatheringState === "complete") return resolve();
      const timer = setTimeout(resolve, 3000);
      pc.onicegatheringstatechange = () => {
        if (pc.iceGatheringState === "complete") (clearTimeout(timer), resolve());
      };
    });
    const res = await fetch(url, { method: "POST", headers: { "Content-Type": "application/sdp" }, body: pc.localDescription!.sdp });
    const answer = await res.text();
    if (res.status === 201) await pc.setRemoteDescription({ type: "answer", sdp: answer });
    return {
      status: res.status,
      type: res.headers.get("content-type"),
      location: res.headers.get("location"),
      url: res.url,
      answer,
      offer: pc.localDescription!.sdp,
    };
  }, [url, kinds] as const);
}

/** A `<video>` element's state, as {@link nativeHlsInPage} reads it. */
export interface VideoElementState {
  error: string | null;
  currentTime: number;
  frames: number;
  width: number;
  height: number;
}

/**
 * Plays `src` (an HLS playlist) in Chromium's own player (`<video id="v" src=...>`, muted) inside
 * `page`, waits until it played 1.5 s and decoded 20 frames or failed (at most `timeoutMs`), and
 * returns the element's state. `state()` reads it again later.
 *
 * @example
 * ```ts
 * const hls = await nativeHlsInPage(page, "/api/stream.m3u8?src=demo");
 * expect(hls.first.error).toBeNull();
 * ```
 */
export async function nativeHlsInPage(
  page: import("playwright-core").Page,
  src: string,
  timeoutMs = 30_000,
): Promise<{ first: VideoElementState; state: () => Promise<VideoElementState> }> {
  await page.evaluate((src) => {
    const v = document.createElement("video");
    v.id = "v";
    v.muted = true;
    v.autoplay = true;
    document.body.append(v);
    v.src = src;
  }, src);
  await page.waitForFunction(
    () => {
      const v = document.getElementById("v") as HTMLVideoElement;
      return !!v.error || (v.currentTime > 1.5 && v.getVideoPlaybackQuality().totalVideoFrames > 20);
    },
    undefined,
    { timeout: timeoutMs, polling: 100 },
  );
  const state = () =>
    page.evaluate(() => {
      const v = document.getElementById("v") as HTMLVideoElement;
      return {
        error: v.error ? `${v.error.code} ${v.error.message}` : null,
        currentTime: v.currentTime,
        frames: v.getVideoPlaybackQuality().totalVideoFrames,
        width: v.videoWidth,
        height: v.videoHeight,
      };
    });
  return { first: await state(), state };
}
