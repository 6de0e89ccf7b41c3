import { beforeAll, describe, expect, it } from "bun:test";
import type { Codec } from "../../core/codec.ts";
import type { Frame } from "../../core/frame.ts";
import { Mp4EmptyError, Mp4FileWriter, type Mp4FileWriterOptions } from "./mp4_file_writer.ts";
import { findBox, readBoxes } from "./mp4_box.ts";
import { type ProbeStream, ffmpegDecode, ffprobeBytes } from "../../../tests/_support/ffmpeg.ts";
import { loadFixture } from "../../../tests/_support/fixtures.ts";
import { concatBytes, hasTool } from "../../../tests/_support/process.ts";
import { TsDemuxer } from "../mpegts/ts_demuxer.ts";

interface Input {
  codecs: Codec[];
  frames: { index: number; frame: Frame }[];
}

function fromTs(data: Uint8Array): Input {
  const demux = new TsDemuxer();
  const frames = [...demux.push(data), ...demux.flush()];
  return {
    codecs: demux.tracks.map((t) => t.codec),
    frames: frames.map((f) => ({ index: demux.tracks.indexOf(f.track), frame: f.frame })),
  };
}

/** Writes a whole file, applying the moov-at-end patch as a file writer would (seek + write). */
function write(input: Input, options: Mp4FileWriterOptions): { file: Uint8Array; writer: Mp4FileWriter } {
  const writer = new Mp4FileWriter(input.codecs.map((codec) => ({ codec })), options);
  const parts: Uint8Array[] = [];
  for (const { index, frame } of input.frames) {
    const out = writer.push(index, frame);
    if (out) parts.push(out);
    if (writer.full) break;
  }
  const result = writer.finish();
  parts.push(result.data);
  const file = concatBytes(parts);
  if (result.patch) file.set(result.patch.data, result.patch.offset);
  return { file, writer };
}

const stream = (streams: ProbeStream[], type: string) => streams.find((s) => s.codec_type === type)!;

// The checks that need ffprobe are skipped (and counted as skipped) when it is not on PATH.
const hasFf = await hasTool("ffprobe");

describe("Mp4FileWriter (progressive)", () => {
  const fx: Record<string, Uint8Array> = {};

  beforeAll(async () => {
    for (const name of ["h264_aac", "h264_bframes_aac", "h265_aac"]) {
      fx[name] = await loadFixture(new URL(`../mpegts/testdata/ffmpeg_${name}.mpegts`, import.meta.url));
    }
  });

  it("faststart puts moov before mdat; moov-at-end streams and patches the mdat size", () => {
    const input = fromTs(fx.h264_aac);
    const fast = write(input, { layout: "faststart", timeBase: "shared" });
    expect(readBoxes(fast.file).map((b) => b.type)).toEqual(["ftyp", "moov", "mdat"]);
    const end = write(input, { layout: "moov-at-end", timeBase: "shared" });
    const boxes = readBoxes(end.file);
    expect(boxes.map((b) => b.type)).toEqual(["ftyp", "mdat", "moov"]);
    expect(boxes[1].payload - boxes[1].start).toBe(16); // 64-bit size header
    // Same samples either way.
    expect(fast.file.length).toBe(end.file.length - 8); // 8-byte mdat header instead of 16
    const stss = findBox(fast.file, "moov/trak/mdia/minf/stbl/stss")!;
    const view = new DataView(fast.file.buffer, fast.file.byteOffset);
    expect(view.getUint32(stss.payload + 4)).toBe(2); // two keyframes
    expect([view.getUint32(stss.payload + 8), view.getUint32(stss.payload + 12)]).toEqual([1, 26]);
  });

  it.skipIf(!hasFf)("both layouts play in ffmpeg with every frame, for H.264 (with B-frames) and H.265", async () => {
    for (const name of ["h264_aac", "h264_bframes_aac", "h265_aac"]) {
      for (const layout of ["faststart", "moov-at-end"] as const) {
        const input = fromTs(fx[name]);
        const audioFrames = input.frames.filter((f) => f.index === 1).length;
        const { file } = write(input, { layout, timeBase: "shared" });
        const probe = await ffprobeBytes(file, "mp4");
        expect(probe.stderr).toBe("");
        const v = stream(probe.streams, "video");
        expect([v.codec_name, v.width, v.height, Number(v.nb_read_frames)]).toEqual([
          name === "h265_aac" ? "hevc" : "h264",
          320,
          240,
          50,
        ]);
        const a = stream(probe.streams, "audio");
        expect(a.codec_name).toBe("aac");
        expect(Number(a.nb_read_frames)).toBeGreaterThanOrEqual(audioFrames - 1);
        const decoded = await ffmpegDecode(file, "mp4");
        expect([decoded.code, decoded.stderr]).toEqual([0, ""]);
      }
    }
  }, 60_000);

  it.skipIf(!hasFf)("stops at maxDurationSeconds and reports full", async () => {
    const { file, writer } = write(fromTs(fx.h264_aac), { maxDurationSeconds: 1, timeBase: "shared" });
    expect(writer.full).toBe(true);
    const probe = await ffprobeBytes(file, "mp4");
    expect(probe.stderr).toBe("");
    expect(Number(stream(probe.streams, "video").nb_read_frames)).toBe(25);
  }, 20_000);

  it.skipIf(!hasFf)("writes a one-keyframe snapshot MP4 (as /api/frame.mp4)", async () => {
    const input = fromTs(fx.h264_aac);
    const video = {
      codecs: [input.codecs[0]],
      frames: input.frames.filter((f) => f.index === 0).slice(0, 1),
    };
    const { file } = write(video, {});
    expect(findBox(file, "moov/trak/mdia/minf/stbl/stss")).toBeUndefined(); // all samples sync
    const probe = await ffprobeBytes(file, "mp4");
    expect(probe.stderr).toBe("");
    expect(Number(stream(probe.streams, "video").nb_read_frames)).toBe(1);
    const jpeg = await ffmpegDecode(file, "mp4", ["-frames:v", "1", "-f", "mjpeg", "-"]);
    expect(jpeg.code).toBe(0);
    expect([jpeg.stdout[0], jpeg.stdout[1]]).toEqual([0xff, 0xd8]);
  }, 20_000);

  it.skipIf(!hasFf)("timeBase shared: tracks on unrelated clocks (RTP bases) start by arrival (issue 11)", async () => {
    // An RTSP source: each track's timestamps have their own random base. Taken as shared, the
    // audio landed hours after the video, the writer reached its limit at once and kept one frame.
    const input = fromTs(fx.h264_aac);
    const bases = [1_234_567_890, 77_000];
    const frames = input.frames.map(({ index, frame }) => ({
      index,
      frame: { ...frame, timestamp: (frame.timestamp + bases[index]) % 0x100000000 },
    }));
    const { file, writer } = write({ codecs: input.codecs, frames }, {
      layout: "moov-at-end",
      timeBase: "shared",
      maxDurationSeconds: 3600,
    });
    expect(writer.full).toBe(false);
    const [video, audio] = writer.written();
    expect(video.samples).toBeGreaterThan(40);
    expect(audio.samples).toBeGreaterThan(70);
    expect(Math.abs(video.seconds - audio.seconds)).toBeLessThan(0.2);
    const probe = await ffprobeBytes(file, "mp4");
    expect(probe.stderr).toBe("");
    expect(Number(stream(probe.streams, "video").nb_read_frames)).toBe(video.samples);
    expect(Number(stream(probe.streams, "audio").nb_read_frames)).toBe(audio.samples);
    expect(Number(stream(probe.streams, "audio").duration)).toBeLessThan(video.seconds + 0.2);
  }, 20_000);

  it("refuses to finish an empty file and to be used after finish", () => {
    const input = fromTs(fx.h264_aac);
    const writer = new Mp4FileWriter([{ codec: input.codecs[0] }]);
    const delta = input.frames.find((f) => f.index === 0 && !f.frame.keyframe)!;
    expect(writer.push(0, delta.frame)).toBeUndefined();
    expect(() => writer.finish()).toThrow(Mp4EmptyError);
    const ok = new Mp4FileWriter([{ codec: input.codecs[0] }]);
    ok.push(0, input.frames.find((f) => f.frame.keyframe)!.frame);
    ok.finish();
    expect(() => ok.push(0, delta.frame)).toThrow(/after finish/);
    expect(() => ok.finish()).toThrow(/twice/);
  });
});
