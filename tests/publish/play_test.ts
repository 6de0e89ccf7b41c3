// Play to a camera (go2rtc's POST /api/streams?dst=<camera>&src=<url>): a sound file through
// ffmpeg:...#audio=auto to the ONVIF backchannel of a test camera that records its speaker's RTP.
// The camera's speaker takes PCMU only, so #audio=auto has to pick PCMU from the backchannel.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { silentLogger } from "../../lib/core/log.ts";
import { getEnv } from "../../lib/runtime/env.ts";
import { removeFile } from "../../lib/runtime/fs.ts";
import { type RunningServer, startServer } from "../../server/server.ts";
import { makeTestApp } from "../../server/_test_support.ts";
import { BackchannelCamera } from "../_support/backchannel_camera.ts";
import { ffmpeg } from "../_support/ffmpeg.ts";
import { hasTool } from "../_support/process.ts";

const hasFfmpeg = await hasTool("ffmpeg");
const tone = `${getEnv("TMPDIR") ?? "/tmp"}/strom-play-${Date.now()}.wav`;

async function waitUntil(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!hasFfmpeg)("play a source to a camera's backchannel (needs ffmpeg)", () => {
  let camera: BackchannelCamera;
  let server: RunningServer;
  beforeAll(async () => {
    const made = await ffmpeg(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=2", "-y", tone]);
    if (made.code !== 0) throw new Error(made.stderr);
    camera = await new BackchannelCamera({ speaker: ["0 PCMU/8000"] }).start();
    server = await startServer({
      configSources: [JSON.stringify({
        api: { listen: "127.0.0.1:0", allow_exec_sources: true },
        rtsp: { listen: "" },
        streams: { door: camera.url },
      })],
      log: silentLogger,
      handleSignals: false,
    });
  }, 20_000);
  afterAll(async () => {
    await server?.close();
    await camera?.close();
    await removeFile(tone).catch(() => {});
  });

  it("ffmpeg:<file>#audio=auto makes the codec the camera's speaker takes, for as long as the file lasts", async () => {
    const src = `ffmpeg:${tone}#audio=auto`;
    const res = await fetch(`${server.urls[0]}/api/streams?dst=door&src=${encodeURIComponent(src)}`, { method: "POST" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ format: "play", url: src });
    // 2 s of audio in 20 ms packets, played in real time (-re).
    await waitUntil("the camera's speaker to get most of the file", () => camera.speakerPackets.length >= 80, 15_000);
    expect(new Set(camera.speakerPackets.map((p) => p.payloadType))).toEqual(new Set([0]));
    // When the file ends, the talker leaves the camera's stream.
    await waitUntil("the player to leave", () => {
      const info = server.hub.get("door")!.info();
      return !info.consumers.some((c) => (c as { format?: string }).format === "play");
    }, 10_000);
  }, 30_000);

  it("the API refuses a file source unless the config file allows program-running sources", async () => {
    const t = await makeTestApp({ yaml: 'streams:\n  door: "rtsp://127.0.0.1:9/x"\n' });
    try {
      const src = encodeURIComponent(`ffmpeg:${tone}#audio=auto`);
      const res = await t.app.request(`/api/streams?dst=door&src=${src}`, { method: "POST" });
      expect(res.status).toBe(403);
      expect((await res.json()).message).toContain("api.allow_exec_sources");
    } finally {
      await t.close();
    }
  });
});
