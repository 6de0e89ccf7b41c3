// kill -9 mid-segment (issue 11): a strom server process records demo: with 60 s segments and is
// killed with SIGKILL after a few seconds; the partial segment plays up to its last complete
// fragment, and the recordings index reads it.
import { describe, expect, it } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SegmentCatalog } from "../../lib/record/catalog.ts";
import { readSegmentIndex } from "../../lib/record/segment_index.ts";
import { openFile } from "../../lib/runtime/fs.ts";
import { ffmpeg, ffprobe } from "../_support/ffmpeg.ts";
import { hasTool } from "../_support/process.ts";
import { startStrom } from "../cli/_cli.ts";
import { waitFor } from "../outputs/_server.ts";

const hasFf = await hasTool("ffprobe");

describe.skipIf(!hasFf)("recording after kill -9", () => {
  it("the segment being written plays up to its last complete fragment", async () => {
    const dir = mkdtempSync(join(tmpdir(), "strom-rec-kill-"));
    const config = join(dir, "strom.yaml");
    writeFileSync(
      config,
      [
        "api:",
        '  listen: "127.0.0.1:0"',
        "rtsp:",
        '  listen: ""',
        "streams:",
        '  cam: "demo:"',
        "record:",
        `  dir: ${JSON.stringify(join(dir, "rec"))}`,
        "  segment: 60s",
        "  streams: [cam]",
        "",
      ].join("\n"),
    );
    const cli = startStrom(["serve", "-c", config]);
    const folder = join(dir, "rec", "cam");
    try {
      await cli.waitFor(/recording/, 15_000);
      // About 4 s of media (demo: is ~40 KB/s), then SIGKILL: no chance to close the file.
      await waitFor("4 s of recording", () => {
        try {
          const files = readdirSync(folder);
          return files.length === 1 && statSync(join(folder, files[0])).size > 150_000;
        } catch {
          return false;
        }
      }, 20_000);
      cli.child.kill("SIGKILL");
      await cli.exited();
      const files = readdirSync(folder);
      expect(files.length).toBe(1);
      const path = join(folder, files[0]);
      const file = await openFile(path, "read");
      const index = await readSegmentIndex(file);
      await file.close();
      expect(index.completeBytes).toBeGreaterThan(150_000);
      expect(index.completeBytes).toBeLessThanOrEqual(index.fileBytes);
      const probe = await ffprobe(path, ["-count_frames"]);
      const video = probe.streams.find((s) => s.codec_type === "video")!;
      const audio = probe.streams.find((s) => s.codec_type === "audio")!;
      expect(Number(video.nb_read_frames)).toBeGreaterThanOrEqual(75);
      expect(Number(audio.nb_read_frames)).toBeGreaterThanOrEqual(140);
      const decode = await ffmpeg(["-i", path, "-f", "null", "-"]);
      expect(decode.code).toBe(0);
      // The listing reports what plays.
      const [summary] = await new SegmentCatalog().summaries(folder);
      expect(Math.abs(summary.duration - Number(video.nb_read_frames) / 25)).toBeLessThan(0.1);
    } finally {
      cli.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 40_000);
});
