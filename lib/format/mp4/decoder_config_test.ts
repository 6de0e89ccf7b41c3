import { beforeAll, describe, expect, it } from "bun:test";
import { buildAvcDecoderConfig, DecoderConfigError, parseAvcDecoderConfig } from "./avc_decoder_config.ts";
import { buildHevcDecoderConfig, parseHevcDecoderConfig } from "./hevc_decoder_config.ts";
import { findBox, readBoxes } from "./mp4_box.ts";
import { VideoParameterSets } from "./video_parameter_sets.ts";
import { ffmpegDecode } from "../../../tests/_support/ffmpeg.ts";
import { loadFixture } from "../../../tests/_support/fixtures.ts";
import { hasTool } from "../../../tests/_support/process.ts";
import { TsDemuxer } from "../mpegts/ts_demuxer.ts";

/** ffmpeg's own avcC/hvcC for a fixture: remux it with `-c copy` to fragmented MP4 and pick the box. */
async function ffmpegConfig(
  ts: Uint8Array,
  entry: "avc1" | "hvc1",
  record: "avcC" | "hvcC",
): Promise<Uint8Array> {
  const tag = entry === "hvc1" ? ["-tag:v", "hvc1"] : [];
  const out = await ffmpegDecode(ts, "mpegts", [
    "-an",
    "-c",
    "copy",
    ...tag,
    "-f",
    "mp4",
    "-movflags",
    "empty_moov+frag_keyframe",
    "-",
  ]);
  expect(out.code).toBe(0);
  const sample = findBox(out.stdout, `moov/trak/mdia/minf/stbl/stsd/${entry}`)!;
  const box = readBoxes(out.stdout, sample.payload + 78, sample.end).find((b) => b.type === record)!;
  return out.stdout.slice(box.payload, box.end);
}

function params(ts: Uint8Array): VideoParameterSets {
  const demux = new TsDemuxer();
  demux.push(ts);
  return new VideoParameterSets(demux.tracks[0].codec);
}

// The checks that need ffmpeg are skipped (and counted as skipped) when it is not on PATH.
const hasFf = await hasTool("ffmpeg");

describe("decoder configuration records", () => {
  let h264: Uint8Array;
  let h265: Uint8Array;
  beforeAll(async () => {
    h264 = await loadFixture(new URL("../mpegts/testdata/ffmpeg_h264_aac.mpegts", import.meta.url));
    h265 = await loadFixture(new URL("../mpegts/testdata/ffmpeg_h265_aac.mpegts", import.meta.url));
  });

  it("avcC: byte-identical to ffmpeg's for the same SPS/PPS, and parses back", async () => {
    const ps = params(h264);
    expect(ps.ready).toBe(true);
    expect([ps.width, ps.height, ps.mimeCodec]).toEqual([320, 240, "avc1.64000d"]);
    const ours = buildAvcDecoderConfig([ps.sps!], [ps.pps!]);
    const parsed = parseAvcDecoderConfig(ours);
    expect(parsed).toEqual({
      profileIdc: 100,
      profileCompatibility: 0,
      levelIdc: 13,
      lengthSize: 4,
      sps: [ps.sps],
      pps: [ps.pps],
    });
    if (hasFf) expect([...ours]).toEqual([...(await ffmpegConfig(h264, "avc1", "avcC"))]);
  }, 20_000);

  it.skipIf(!hasFf)("hvcC: same profile/tier/level, formats and arrays as ffmpeg's", async () => {
    const ps = params(h265);
    expect(ps.ready).toBe(true);
    expect([ps.width, ps.height]).toEqual([320, 240]);
    expect(ps.mimeCodec).toMatch(/^hvc1\.1\.6\.L60\./);
    const ours = buildHevcDecoderConfig([ps.vps!], [ps.sps!], [ps.pps!]);
    const parsed = parseHevcDecoderConfig(ours);
    expect(parsed).toEqual({ lengthSize: 4, vps: [ps.vps], sps: [ps.sps], pps: [ps.pps], other: [] });
    const theirs = await ffmpegConfig(h265, "hvc1", "hvcC");
    // general profile_tier_level (bytes 1..12), chroma format and bit depths (16..18).
    expect([...ours.subarray(1, 13)]).toEqual([...theirs.subarray(1, 13)]);
    expect([...ours.subarray(16, 19)]).toEqual([...theirs.subarray(16, 19)]);
    expect(ours[21] & 0x3f).toBe(theirs[21] & 0x3f); // temporal layers, nesting, length size
    const back = parseHevcDecoderConfig(theirs);
    expect([back.vps, back.sps, back.pps]).toEqual([[ps.vps], [ps.sps], [ps.pps]]);
  }, 20_000);

  it("reports truncated records with the offset", () => {
    const ps = params(h264);
    const ours = buildAvcDecoderConfig([ps.sps!], [ps.pps!]);
    expect(() => parseAvcDecoderConfig(ours.subarray(0, 10))).toThrow(DecoderConfigError);
    expect(() => parseAvcDecoderConfig(new Uint8Array([2, 0, 0, 0, 0, 0, 0]))).toThrow(
      /configurationVersion/,
    );
    expect(() => parseHevcDecoderConfig(new Uint8Array(10))).toThrow(/at least 23 bytes/);
    expect(() => buildAvcDecoderConfig([], [])).toThrow(RangeError);
  });

  it("learns in-band parameter sets and counts a change", () => {
    const ps = new VideoParameterSets({ name: "H264", clockRate: 90000 });
    expect(ps.ready).toBe(false);
    const src = params(h264);
    const au = new Uint8Array(4 + src.sps!.length + 4 + src.pps!.length + 6);
    const v = new DataView(au.buffer);
    v.setUint32(0, src.sps!.length);
    au.set(src.sps!, 4);
    v.setUint32(4 + src.sps!.length, src.pps!.length);
    au.set(src.pps!, 8 + src.sps!.length);
    v.setUint32(8 + src.sps!.length + src.pps!.length, 2);
    au.set([0x65, 0x88], 12 + src.sps!.length + src.pps!.length);
    ps.observe(au);
    expect(ps.ready).toBe(true);
    const version = ps.version;
    ps.observe(au);
    expect(ps.version).toBe(version);
    expect(ps.list()).toEqual([src.sps, src.pps]);
  });
});
