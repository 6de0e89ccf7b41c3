import { beforeAll, describe, expect, it } from "bun:test";
import { AdtsSplitter } from "../../codec/aac/adts.ts";
import { AdtsCodecError, AdtsMuxer } from "./adts_muxer.ts";
import { ffmpegDecode, ffprobeBytes } from "../../../tests/_support/ffmpeg.ts";
import { loadFixture } from "../../../tests/_support/fixtures.ts";
import { concatBytes, hasTool } from "../../../tests/_support/process.ts";
import { TsDemuxer } from "../mpegts/ts_demuxer.ts";

// The checks that need ffprobe are skipped (and counted as skipped) when it is not on PATH.
const hasFf = await hasTool("ffprobe");

describe("AdtsMuxer", () => {
  let ts: Uint8Array;
  beforeAll(async () => {
    ts = await loadFixture(new URL("../mpegts/testdata/ffmpeg_h264_aac.mpegts", import.meta.url));
  });

  it.skipIf(!hasFf)("writes AAC from MPEG-TS as an ADTS stream ffprobe reads frame for frame", async () => {
    const demux = new TsDemuxer();
    const frames = [...demux.push(ts), ...demux.flush()].filter((f) => f.track.kind === "audio");
    const muxer = new AdtsMuxer(frames[0].track.codec);
    expect(muxer.contentType).toBe("audio/aac");
    const stream = concatBytes(frames.map((f) => muxer.push(f.frame)!));
    // The ADTS splitter of lib/codec/aac gives the same access units back.
    const back: Uint8Array[] = [];
    new AdtsSplitter((f) => back.push(f.data.slice())).push(stream);
    expect(back).toEqual(frames.map((f) => f.frame.data));
    const probe = await ffprobeBytes(stream, "aac");
    expect(probe.stderr).toBe("");
    expect(probe.streams.map((s) => [s.codec_name, s.sample_rate, s.channels, Number(s.nb_read_frames)]))
      .toEqual([
        ["aac", "44100", 1, frames.length],
      ]);
    const decoded = await ffmpegDecode(stream, "aac");
    expect([decoded.code, decoded.stderr]).toEqual([0, ""]);
  }, 20_000);

  it("refuses codecs and configs ADTS cannot express", () => {
    expect(() => new AdtsMuxer({ name: "OPUS", clockRate: 48000 })).toThrow(AdtsCodecError);
    expect(() => new AdtsMuxer({ name: "MPEG4-GENERIC", clockRate: 48000 })).toThrow(/config/);
    // AAC-LD (object type 23) does not fit the 2-bit ADTS profile.
    expect(() => new AdtsMuxer({ name: "MPEG4-GENERIC", clockRate: 48000, fmtp: "config=B98C00" })).toThrow(
      /object type/,
    );
    const ok = new AdtsMuxer({ name: "MPEG4-GENERIC", clockRate: 48000, fmtp: "config=1190" });
    expect(ok.push({ timestamp: 0, keyframe: true, data: new Uint8Array(9000) })).toBeUndefined();
    expect(ok.dropped).toBe(1);
    expect([...ok.push({ timestamp: 0, keyframe: true, data: new Uint8Array([1, 2]) })!]).toEqual([
      0xff,
      0xf1,
      0x4c,
      0x80,
      0x01,
      0x3f,
      0xfc,
      1,
      2,
    ]);
  });
});
