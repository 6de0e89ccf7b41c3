// go2rtc's GET /api/ffmpeg/hardware and /api/ffmpeg/devices, and a bare `#hardware` on an ffmpeg:
// source, with the real ffmpeg as the thing probed: the endpoints run it only when the config file
// allows programs from the API, list every probe of this system with OK or ERROR, and a bare
// #hardware stream plays with the engine that list says works (here, with no GPU: libx264).
import { afterAll, describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../lib/core/log.ts";
import { autoProbeOrder } from "../../lib/protocol/ffmpeg/hardware_probe.ts";
import { hostSystem } from "../../lib/runtime/host.ts";
import { startServer } from "../../server/server.ts";
import { ffprobe, hasEncoder } from "../_support/ffmpeg.ts";
import { freePort } from "../_support/net.ts";
import { hasTool } from "../_support/process.ts";

const hasFf = (await hasTool("ffmpeg")) && (await hasTool("ffprobe"));
const hasX264 = hasFf && (await hasEncoder("libx264"));

interface Listed {
  name: string;
  url: string;
  info?: string;
}

describe.skipIf(!hasFf || !hasX264)("/api/ffmpeg/hardware, /api/ffmpeg/devices and #hardware", () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  async function serve(yaml: string[]) {
    const dir = mkdtempSync(join(tmpdir(), "strom-ffapi-"));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, "strom.yaml");
    writeFileSync(file, yaml.join("\n") + "\n");
    const server = await startServer({ configSources: [file], log: silentLogger, handleSignals: false });
    cleanup.push(() => server.close());
    return server.urls[0];
  }

  it("answers 403 naming api.allow_exec_sources unless the config file allows programs from the API", async () => {
    const base = await serve(['api: { listen: "127.0.0.1:0" }', 'rtsp: { listen: "" }', "streams: {}"]);
    for (const path of ["/api/ffmpeg/hardware", "/api/ffmpeg/devices"]) {
      const res = await fetch(base + path);
      expect(res.status).toBe(403);
      const body = await res.json() as { error: string; message: string };
      expect(body.message).toContain("api.allow_exec_sources: true");
      expect(body.message).toContain("runs ffmpeg");
    }
  });

  it(
    "lists every hardware probe with OK or ERROR, lists devices, and a bare #hardware plays with what works",
    async () => {
      const rtspPort = await freePort();
      const base = await serve([
        'api: { listen: "127.0.0.1:0", allow_exec_sources: true }',
        `rtsp: { listen: "127.0.0.1:${rtspPort}" }`,
        "streams:",
        '  demo: "demo:"',
        '  hw: "ffmpeg:demo#video=h264#hardware"',
      ]);

      let res = await fetch(base + "/api/ffmpeg/hardware");
      expect(res.status).toBe(200);
      const { sources } = await res.json() as { sources: Listed[] };
      const { platform, arch } = hostSystem();
      expect(sources.length).toBeGreaterThanOrEqual(2);
      for (const s of sources) {
        expect(["OK", "ERROR"]).toContain(s.name);
        expect(s.url).toMatch(/^ffmpeg:\.\.\.#video=(h264|h265|mjpeg)#hardware=[a-z0-9]+$/);
        // An ERROR says why: the encoder, then ffmpeg's reason.
        if (s.name === "ERROR") expect(s.info).toMatch(/^\w+: .+/);
      }
      // Kept: the second answer is the same (that nothing runs twice is counted in
      // lib/protocol/ffmpeg/hardware_probe_test.ts).
      res = await fetch(base + "/api/ffmpeg/hardware");
      expect((await res.json() as { sources: Listed[] }).sources).toEqual(sources);

      res = await fetch(base + "/api/ffmpeg/devices");
      expect(res.status).toBe(200);
      const devices = (await res.json() as { sources: Listed[] }).sources;
      expect(Array.isArray(devices)).toBe(true);
      for (const d of devices) expect(d.url).toMatch(/^ffmpeg:device\?(video|audio)=/);

      // The engine a bare #hardware picks for H.264: the first of go2rtc's order that the list says
      // works, else the software encoder.
      const ok = new Set(sources.filter((s) => s.name === "OK").map((s) => s.url));
      const chosen = autoProbeOrder(platform, arch, "h264")
        .find((p) => ok.has(`ffmpeg:...#video=h264#hardware=${p.engine}`));
      const encoder = chosen?.encoder ?? "libx264";

      const probe = await ffprobe(`rtsp://127.0.0.1:${rtspPort}/hw`, ["-rtsp_transport", "tcp"]);
      expect(probe.streams.some((s) => s.codec_name === "h264")).toBe(true);
      // The command ffmpeg runs, read while a viewer (an MP4 download) holds the source up.
      const viewer = new AbortController();
      cleanup.push(() => viewer.abort());
      const mp4 = await fetch(base + "/api/stream.mp4?src=hw", { signal: viewer.signal });
      expect((await mp4.body!.getReader().read()).done).toBe(false);
      const info = await (await fetch(base + "/api/streams?src=hw")).json() as {
        producers: { connection?: { url?: string } }[];
      };
      viewer.abort();
      const command = info.producers.map((p) => p.connection?.url ?? "").join(" ");
      expect(command).toContain(`-c:v ${encoder}`);
    },
    60_000,
  );
});
