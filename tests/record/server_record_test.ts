// Server-side recording (issue 11): a real server records demo: (H.264 + AAC) into fragmented MP4
// segments; ffprobe reads every segment and the MP4 cut across two of them; the API lists,
// starts, stops and refuses bad time ranges; retention keeps a folder under its cap.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../lib/core/log.ts";
import { startServer } from "../../server/server.ts";
import { createRecordModule } from "../../server/modules/record.ts";
import { ffprobe, type FfprobeResult } from "../_support/ffmpeg.ts";
import { hasTool } from "../_support/process.ts";
import { waitFor } from "../outputs/_server.ts";

const hasFf = await hasTool("ffprobe");

interface Segment {
  start: string;
  duration: number;
  bytes: number;
}

function tracksOf(probe: FfprobeResult) {
  const v = probe.streams.find((s) => s.codec_type === "video");
  const a = probe.streams.find((s) => s.codec_type === "audio");
  return {
    video: v ? { codec: v.codec_name, frames: Number(v.nb_read_frames), duration: Number(v.duration) } : undefined,
    audio: a ? { codec: a.codec_name, frames: Number(a.nb_read_frames), duration: Number(a.duration) } : undefined,
  };
}

async function startRecordingServer(dir: string, record: Record<string, unknown>) {
  const server = await startServer({
    configSources: [JSON.stringify({
      streams: { demo: "demo:", other: "demo:", keep: "demo:" },
      record: { dir, ...record },
    })],
    listen: "127.0.0.1:0",
    handleSignals: false,
    log: silentLogger,
    modules: [createRecordModule({ checkMs: 500, retryMs: 500, sync: false })],
  });
  return { base: server.urls[0], hub: server.hub, close: () => server.close() };
}

describe.skipIf(!hasFf)("server-side recording", () => {
  let dir: string;
  let srv: Awaited<ReturnType<typeof startRecordingServer>>;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "strom-rec-"));
    srv = await startRecordingServer(dir, { segment: "2s", streams: ["de*"] });
  });
  afterAll(async () => {
    await srv?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("records the configured streams into segments that ffprobe plays, listed by the API", async () => {
    let list: Segment[] = [];
    await waitFor("4 segments", async () => {
      list = await (await fetch(`${srv.base}/api/recordings?src=demo`)).json() as Segment[];
      return list.length >= 4;
    }, 20_000);
    // The stream that matches no pattern is not recorded.
    expect(readdirSync(dir).sort()).toEqual(["demo"]);
    const status = await (await fetch(`${srv.base}/api/record`)).json() as { stream: string; state: string }[];
    expect(status).toMatchObject([{ stream: "demo", origin: "config", state: "recording" }]);
    const files = readdirSync(join(dir, "demo")).sort();
    expect(files.length).toBe(list.length);
    for (let i = 0; i < list.length - 1; i++) {
      const s = list[i];
      // File names carry the start time.
      expect(files[i]).toBe(s.start.replace(/:/g, "-") + ".mp4");
      expect(s.bytes).toBe(statSync(join(dir, "demo", files[i])).size);
      expect(s.duration).toBeGreaterThanOrEqual(1.9);
      expect(s.duration).toBeLessThan(5);
      const probe = await ffprobe(join(dir, "demo", files[i]), ["-count_frames"]);
      const t = tracksOf(probe);
      expect(t.video!.codec).toBe("h264");
      expect(t.audio!.codec).toBe("aac");
      expect(Math.abs(t.video!.frames - s.duration * 25)).toBeLessThanOrEqual(1);
      // Files are cut at video keyframes in arrival order: audio that arrived just before the
      // keyframe stays in the earlier file (a few frames; more on a loaded machine).
      expect(Math.abs(t.audio!.frames - s.duration * 46.875)).toBeLessThanOrEqual(12);
      expect(Math.abs(t.video!.duration - s.duration)).toBeLessThan(0.05);
      // One segment starts where the one before ended.
      const gap = Date.parse(list[i + 1].start) - (Date.parse(s.start) + s.duration * 1000);
      expect(Math.abs(gap)).toBeLessThan(300);
    }
  }, 30_000);

  it("cuts one MP4 across two segments, starting at the keyframe at or before start", async () => {
    const list = await (await fetch(`${srv.base}/api/recordings?src=demo`)).json() as Segment[];
    // From the middle of the first segment to the middle of the second.
    const from = Date.parse(list[0].start) + (list[0].duration * 1000) / 2;
    const start = new Date(from).toISOString();
    const res = await fetch(`${srv.base}/api/recordings.mp4?src=demo&start=${start}&duration=2`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("video/mp4");
    const bytes = new Uint8Array(await res.arrayBuffer());
    // Bun's server sends a streamed body chunked, without the Content-Length the route sets.
    expect(bytes.length).toBe(Number(res.headers.get("content-length") ?? bytes.length));
    const cutStart = Date.parse(res.headers.get("x-recording-start")!);
    expect(cutStart).toBeLessThanOrEqual(from);
    const path = join(dir, "cut.mp4");
    (await import("node:fs")).writeFileSync(path, bytes);
    const probe = await ffprobe(path, ["-count_frames"]);
    const t = tracksOf(probe);
    expect([t.video!.codec, t.audio!.codec]).toEqual(["h264", "aac"]);
    // The asked 2 s, plus what lies between the keyframe and the asked start (under one GOP).
    const lead = (from - cutStart) / 1000;
    expect(lead).toBeLessThan(3);
    // Segment start times are wall-clock estimates: a few frames of slack where they join.
    expect(Math.abs(Number(probe.format!.duration) - (2 + lead))).toBeLessThan(0.2);
    expect(Math.abs(t.video!.frames - (2 + lead) * 25)).toBeLessThanOrEqual(5);
    expect(Math.abs(t.audio!.frames - (2 + lead) * 46.875)).toBeLessThanOrEqual(10);
    rmSync(path);
  }, 20_000);

  it("answers 400 for bad time ranges and 404 where nothing was recorded", async () => {
    const get = async (q: string) => {
      const r = await fetch(`${srv.base}/api/recordings.mp4?${q}`);
      return { status: r.status, body: await r.json() as { message: string } };
    };
    expect(await get("src=demo&duration=5")).toMatchObject({ status: 400, body: { message: expect.stringContaining("start=") } });
    expect(await get("src=demo&start=yesterday&duration=5")).toMatchObject({ status: 400, body: { message: expect.stringContaining('Invalid start="yesterday"') } });
    expect(await get("src=demo&start=2026-12-03T17:00:00Z")).toMatchObject({ status: 400, body: { message: expect.stringContaining("duration=") } });
    expect(await get("src=demo&start=2026-12-03T17:00:00Z&duration=-3")).toMatchObject({ status: 400, body: { message: expect.stringContaining('Invalid duration="-3"') } });
    expect(await get("src=demo&start=2026-12-03T17:00:00Z&duration=999999")).toMatchObject({ status: 400 });
    expect(await get("start=2026-12-03T17:00:00Z&duration=3")).toMatchObject({ status: 400, body: { message: expect.stringContaining("src=") } });
    expect(await get("src=..&start=2026-12-03T17:00:00Z&duration=3")).toMatchObject({ status: 400 });
    expect(await get("src=demo&start=2000-01-01T00:00:00Z&duration=3")).toMatchObject({ status: 404, body: { message: expect.stringContaining("Nothing to cut") } });
    expect(await (await fetch(`${srv.base}/api/recordings?src=other`)).json()).toEqual([]);
  }, 20_000);

  it("starts and stops a recording through the API", async () => {
    const post = await fetch(`${srv.base}/api/record?src=other`, { method: "POST" });
    expect(post.status).toBe(200);
    expect(await post.json()).toMatchObject({ stream: "other", origin: "api" });
    await waitFor("a segment of other", async () => {
      const list = await (await fetch(`${srv.base}/api/recordings?src=other`)).json() as Segment[];
      return list.length >= 1 && list[0].duration > 0.5;
    }, 15_000);
    const del = await fetch(`${srv.base}/api/record?src=other`, { method: "DELETE" });
    expect(del.status).toBe(200);
    // Stopping closes the last segment: it plays to its end.
    const files = readdirSync(join(dir, "other"));
    const probe = await ffprobe(join(dir, "other", files[files.length - 1]), ["-count_frames"]);
    expect(tracksOf(probe).video!.frames).toBeGreaterThan(10);
    expect((await fetch(`${srv.base}/api/record?src=other`, { method: "DELETE" })).status).toBe(404);
    expect((await fetch(`${srv.base}/api/record?src=nope`, { method: "POST" })).status).toBe(404);
    const status = await (await fetch(`${srv.base}/api/record`)).json() as { stream: string }[];
    expect(status.map((s) => s.stream)).toEqual(["demo"]);
  }, 30_000);
});

describe.skipIf(!hasFf)("recording retention", () => {
  it("deletes the oldest segments beyond max_size, never the one being written", async () => {
    const dir = mkdtempSync(join(tmpdir(), "strom-rec-ret-"));
    // demo: is about 40 KB/s: 1 s segments, a 100 KB cap keeps two or three files.
    const srv = await startRecordingServer(dir, {
      segment: "1s",
      streams: ["demo"],
      overrides: { demo: { max_size: "100KB" } },
    });
    try {
      await waitFor("the stream folder", () => {
        try {
          return readdirSync(join(dir, "demo")).length > 0;
        } catch {
          return false;
        }
      });
      const seen = new Set<string>();
      const deadline = Date.now() + 9000;
      let maxTotal = 0;
      while (Date.now() < deadline) {
        const files = readdirSync(join(dir, "demo"), { withFileTypes: true }).map((e) => e.name);
        files.forEach((f) => seen.add(f));
        let total = 0;
        for (const f of files) {
          try {
            total += statSync(join(dir, "demo", f)).size;
          } catch { /* deleted meanwhile */ }
        }
        maxTotal = Math.max(maxTotal, total);
        await new Promise((r) => setTimeout(r, 200));
      }
      const left = readdirSync(join(dir, "demo")).sort();
      const all = [...seen].sort();
      expect(all.length).toBeGreaterThanOrEqual(6);
      // The newest files are kept, the oldest are gone.
      expect(left).toEqual(all.slice(all.length - left.length));
      expect(left.length).toBeGreaterThanOrEqual(1);
      expect(left.length).toBeLessThanOrEqual(4);
      // Over the cap only by the segment being written (about 40 KB), briefly.
      expect(maxTotal).toBeLessThan(100_000 + 80_000);
    } finally {
      await srv.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 20_000);
});
