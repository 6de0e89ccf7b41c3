// Over a minute of media with short segments (issue 11): 5 s segments of demo: with max_age 20 s.
// The oldest segments are deleted as they age, the newest are kept, every file left plays with
// both tracks, and the listing adds up to the media that is left.
import { describe, expect, it } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../lib/core/log.ts";
import { createRecordModule } from "../../server/modules/record.ts";
import { startServer } from "../../server/server.ts";
import { ffprobe } from "../_support/ffmpeg.ts";
import { hasTool } from "../_support/process.ts";

const hasFf = await hasTool("ffprobe");

describe.skipIf(!hasFf)("a minute of recording", () => {
  it("cuts 5 s segments and deletes those older than max_age, oldest first", async () => {
    const dir = mkdtempSync(join(tmpdir(), "strom-rec-minute-"));
    const server = await startServer({
      configSources: [JSON.stringify({
        streams: { demo: "demo:" },
        record: { dir, segment: "5s", max_age: "20s", streams: ["*"] },
      })],
      listen: "127.0.0.1:0",
      handleSignals: false,
      log: silentLogger,
      modules: [createRecordModule({ checkMs: 1000, sync: false })],
    });
    const base = server.urls[0];
    let closed = false;
    try {
      const seen = new Set<string>();
      const deadline = Date.now() + 65_000;
      while (Date.now() < deadline) {
        try {
          for (const f of readdirSync(join(dir, "demo"))) seen.add(f);
        } catch { /* not created yet */ }
        await new Promise((r) => setTimeout(r, 500));
      }
      const all = [...seen].sort();
      const left = readdirSync(join(dir, "demo")).sort();
      // About 13 segments were written; those that ended more than 20 s ago are gone.
      expect(all.length).toBeGreaterThanOrEqual(11);
      expect(left.length).toBeGreaterThanOrEqual(4);
      expect(left.length).toBeLessThanOrEqual(7);
      expect(left).toEqual(all.slice(all.length - left.length));
      const list = await (await fetch(`${base}/api/recordings?src=demo`)).json() as { start: string; duration: number }[];
      expect(list.map((s) => s.start.replace(/:/g, "-") + ".mp4")).toEqual(left);
      for (const s of list.slice(0, -1)) expect(s.duration).toBeGreaterThanOrEqual(4.9);
      // A cut over the retained span plays as one file of about that length (from the second
      // segment: the oldest may age out meanwhile).
      const first = list[1];
      const last = list[list.length - 2];
      const span = (Date.parse(last.start) + last.duration * 1000 - Date.parse(first.start)) / 1000;
      const res = await fetch(`${base}/api/recordings.mp4?src=demo&start=${first.start}&duration=${span.toFixed(3)}`);
      expect(res.status).toBe(200);
      const path = join(dir, "all.mp4");
      (await import("node:fs")).writeFileSync(path, new Uint8Array(await res.arrayBuffer()));
      const probe = await ffprobe(path, ["-count_frames"]);
      expect(Math.abs(Number(probe.format!.duration) - span)).toBeLessThan(0.3);
      expect(probe.streams.map((s) => s.codec_name)).toEqual(["h264", "aac"]);
      // Stopped (the last segment closed, retention no longer running): every file left plays.
      await server.close();
      closed = true;
      const files = readdirSync(join(dir, "demo")).filter((n) => n !== "all.mp4").sort();
      for (const [i, f] of files.entries()) {
        const probe = await ffprobe(join(dir, "demo", f), ["-count_frames"]);
        const v = Number(probe.streams.find((s) => s.codec_type === "video")?.nb_read_frames);
        const a = Number(probe.streams.find((s) => s.codec_type === "audio")?.nb_read_frames);
        // 5 s: 125 video frames; the newest file was cut short by the stop.
        const min = i < files.length - 1 ? 120 : 1;
        expect([f, v >= min, a >= min]).toEqual([f, true, true]);
      }
    } finally {
      if (!closed) await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
