// Recording through trouble (issue 11): an RTSP camera (another strom serving demo:) goes away and
// comes back on the same port: the recording goes on in the same recorder and the segments after
// the outage play. A record.dir that cannot be created: a clear error in /api/record, and viewers
// of the stream are not affected.
import { describe, expect, it } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StreamHub } from "../../lib/core/hub.ts";
import { silentLogger } from "../../lib/core/log.ts";
import { registerDemoSource } from "../../lib/protocol/demo/register.ts";
import { RtspServer } from "../../lib/protocol/rtsp/server.ts";
import { createRecordModule } from "../../server/modules/record.ts";
import { startServer } from "../../server/server.ts";
import { ffmpeg, ffprobe } from "../_support/ffmpeg.ts";
import { hasTool } from "../_support/process.ts";
import { readSome, waitFor } from "../outputs/_server.ts";

const hasFf = await hasTool("ffprobe");

interface Status {
  stream: string;
  state: string;
  segments: number;
  error?: string;
}

describe.skipIf(!hasFf)("recording through trouble", () => {
  it("keeps recording across a camera reconnect", async () => {
    const dir = mkdtempSync(join(tmpdir(), "strom-rec-reconnect-"));
    const camHub = new StreamHub({ graceMs: 0 });
    registerDemoSource();
    camHub.set("demo", ["demo:"]);
    let camera = await RtspServer.listen({ hub: camHub, listen: { hostname: "127.0.0.1", port: 0 } });
    const port = camera.addr.port;
    const server = await startServer({
      configSources: [JSON.stringify({
        streams: { cam: `rtsp://127.0.0.1:${port}/demo` },
        record: { dir, segment: "2s", streams: ["cam"] },
      })],
      listen: "127.0.0.1:0",
      handleSignals: false,
      log: silentLogger,
      modules: [createRecordModule({ checkMs: 500, sync: false })],
    });
    const base = server.urls[0];
    const status = async () => ((await (await fetch(`${base}/api/record`)).json()) as Status[])[0];
    try {
      await waitFor("a first segment", async () => (await status())?.segments >= 1, 20_000);
      // The camera goes away (its sessions are closed) and comes back 1.5 s later on the same port.
      await camera.close();
      await new Promise((r) => setTimeout(r, 1500));
      camera = await RtspServer.listen({ hub: camHub, listen: { hostname: "127.0.0.1", port } });
      const before = (await status()).segments;
      await waitFor("two more segments after the reconnect", async () => (await status()).segments >= before + 2, 30_000);
      expect(await status()).toMatchObject({ stream: "cam", state: "recording" });
      const files = readdirSync(join(dir, "cam")).sort();
      // Every file but the one being written plays with both tracks, the one spanning the outage too.
      for (const f of files.slice(0, -1)) {
        const path = join(dir, "cam", f);
        const probe = await ffprobe(path, ["-count_frames"]);
        const v = probe.streams.find((s) => s.codec_type === "video");
        const a = probe.streams.find((s) => s.codec_type === "audio");
        expect([f, Number(v?.nb_read_frames) > 10, Number(a?.nb_read_frames) > 10]).toEqual([f, true, true]);
        const decode = await ffmpeg(["-i", path, "-f", "null", "-"]);
        expect([f, decode.code]).toEqual([f, 0]);
      }
    } finally {
      await server.close();
      await camera.close();
      await camHub.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it("reports a record.dir that cannot be created, and viewers still play", async () => {
    const tmp = mkdtempSync(join(tmpdir(), "strom-rec-bad-"));
    const blocker = join(tmp, "not-a-folder");
    writeFileSync(blocker, "x");
    const server = await startServer({
      configSources: [JSON.stringify({
        streams: { demo: "demo:" },
        record: { dir: join(blocker, "recordings"), segment: "1s", streams: ["demo"] },
      })],
      listen: "127.0.0.1:0",
      handleSignals: false,
      log: silentLogger,
      modules: [createRecordModule({ checkMs: 500, retryMs: 300, sync: false })],
    });
    const base = server.urls[0];
    try {
      let s: Status | undefined;
      await waitFor("the write error", async () => {
        s = ((await (await fetch(`${base}/api/record`)).json()) as Status[])[0];
        return s?.state === "failed";
      }, 15_000);
      expect(s!.error).toMatch(/ENOTDIR|EEXIST|not a directory/i);
      expect(s!.error).toContain("not-a-folder");
      // A viewer gets media meanwhile.
      const res = await fetch(`${base}/api/stream.mp4?src=demo`);
      expect(res.status).toBe(200);
      const bytes = await readSome(res, 50_000);
      expect(bytes.length).toBeGreaterThanOrEqual(50_000);
      // The recorder tries again (and fails again) without piling up consumers.
      await new Promise((r) => setTimeout(r, 1000));
      const info = await (await fetch(`${base}/api/streams?src=demo`)).json() as { consumers: unknown[] };
      expect(info.consumers.length).toBeLessThanOrEqual(2);
    } finally {
      await server.close();
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 30_000);
});
