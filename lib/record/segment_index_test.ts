import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Mp4Muxer } from "../format/mp4/mp4_muxer.ts";
import { TsDemuxer } from "../format/mpegts/ts_demuxer.ts";
import { openFile } from "../runtime/fs.ts";
import { ffprobe } from "../../tests/_support/ffmpeg.ts";
import { loadFixture } from "../../tests/_support/fixtures.ts";
import { concatBytes, hasTool } from "../../tests/_support/process.ts";
import { NON_SYNC_FLAG, readSegmentIndex, SegmentFormatError } from "./segment_index.ts";

const hasFf = await hasTool("ffprobe");
const dir = mkdtempSync(join(tmpdir(), "strom-segidx-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A recording segment as StreamRecorder writes it: init, then one fragment per GOP. */
let segment: Uint8Array;
let fragmentEnds: number[];
let videoFrames = 0;
beforeAll(async () => {
  const ts = await loadFixture(new URL("../format/mpegts/testdata/ffmpeg_h264_aac.mpegts", import.meta.url));
  const demux = new TsDemuxer();
  const frames = [...demux.push(ts), ...demux.flush()];
  const mux = new Mp4Muxer(demux.tracks.map((t) => ({ codec: t.codec })), {
    fragmentAtKeyframe: true,
    fragmentFrames: 100_000,
    timeBase: "shared",
  });
  const parts: Uint8Array[] = [];
  fragmentEnds = [];
  let size = 0;
  const add = (b: Uint8Array) => {
    parts.push(b);
    size += b.length;
  };
  for (const f of frames) {
    const out = mux.push(demux.tracks.indexOf(f.track), f.frame);
    if (!out) continue;
    if (!parts.length) add(mux.init());
    add(out);
    fragmentEnds.push(size);
  }
  const last = mux.flush();
  if (last) {
    add(last);
    fragmentEnds.push(size);
  }
  segment = concatBytes(parts);
  videoFrames = frames.filter((f) => f.track.codec.name === "H264").length;
});

async function indexOf(bytes: Uint8Array, name: string) {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  const file = await openFile(path, "read");
  try {
    return { path, index: await readSegmentIndex(file) };
  } finally {
    await file.close();
  }
}

describe("readSegmentIndex", () => {
  it("reads tracks and every fragment's samples of a complete segment", async () => {
    const { index } = await indexOf(segment, "whole.mp4");
    expect(index.tracks.map((t) => [t.id, t.kind, t.timescale])).toEqual([[1, "video", 90000], [2, "audio", 44100]]);
    expect(index.completeBytes).toBe(segment.length);
    const video = index.runs.filter((r) => r.trackId === 1);
    expect(video.reduce((n, r) => n + r.sizes.length, 0)).toBe(videoFrames);
    // Each fragment starts with a keyframe; decode times run on from fragment to fragment.
    for (const r of video) expect(r.flags[0] & NON_SYNC_FLAG).toBe(0);
    for (let i = 1; i < video.length; i++) {
      const prev = video[i - 1];
      const end = prev.baseDecodeTime + prev.durations.reduce((a, b) => a + b, 0);
      expect(Math.abs(video[i].baseDecodeTime - end)).toBeLessThanOrEqual(3600);
    }
    // Sample bytes are where the index says: the first video sample is AVCC (a 4-byte length).
    const first = video[0];
    const len = new DataView(segment.buffer, segment.byteOffset + first.dataOffset).getUint32(0);
    expect(len).toBeLessThan(first.sizes[0]);
  });

  it.skipIf(!hasFf)("stops at the last complete fragment of a file cut short (kill -9)", async () => {
    expect(fragmentEnds.length).toBeGreaterThanOrEqual(2);
    const complete = fragmentEnds[fragmentEnds.length - 2];
    const cutAt = complete + Math.floor((segment.length - complete) / 2); // inside the last fragment
    const { path, index } = await indexOf(segment.subarray(0, cutAt), "cut.mp4");
    expect(index.completeBytes).toBe(complete);
    expect(index.fileBytes).toBe(cutAt);
    const frames = index.runs.filter((r) => r.trackId === 1).reduce((n, r) => n + r.sizes.length, 0);
    const probe = await ffprobe(path, ["-count_frames"]);
    // ffmpeg plays at least what the index counts (it also takes whole samples of the cut fragment).
    expect(Number(probe.streams.find((s) => s.codec_type === "video")!.nb_read_frames)).toBeGreaterThanOrEqual(frames);
    expect(frames).toBeGreaterThan(0);
  });

  it("refuses a file without an init segment, naming it", async () => {
    await expect(indexOf(segment.subarray(0, 20), "short.mp4").then((r) => r.index)).rejects.toThrow(SegmentFormatError);
    await expect(indexOf(new Uint8Array(0), "empty.mp4").then((r) => r.index)).rejects.toThrow(/empty\.mp4.*no complete ftyp \+ moov/);
  });
});
