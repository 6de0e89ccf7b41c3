import { beforeAll, describe, expect, it } from "bun:test";
import type { Frame } from "../../core/frame.ts";
import { type FlvDemuxedFrame, FlvDemuxer } from "./flv_demuxer.ts";
import { FlvCodecError, FlvMuxer } from "./flv_muxer.ts";
import { buildFlvTag, FlvTagType, readFlvTags } from "./flv_tag.ts";
import { decodeAmf0 } from "./amf0.ts";
import { type TsDemuxedFrame, TsDemuxer } from "../mpegts/ts_demuxer.ts";
import { ffmpegDecode, ffprobeBytes } from "../../../tests/_support/ffmpeg.ts";
import { loadFixture } from "../../../tests/_support/fixtures.ts";
import { concatBytes, hasTool } from "../../../tests/_support/process.ts";

function demuxTs(data: Uint8Array): { demux: TsDemuxer; frames: TsDemuxedFrame[] } {
  const demux = new TsDemuxer();
  return { demux, frames: [...demux.push(data), ...demux.flush()] };
}

function demuxFlv(data: Uint8Array, chunk = data.length): { demux: FlvDemuxer; frames: FlvDemuxedFrame[] } {
  const demux = new FlvDemuxer();
  const frames: FlvDemuxedFrame[] = [];
  for (let i = 0; i < data.length; i += chunk) frames.push(...demux.push(data.subarray(i, i + chunk)));
  return { demux, frames };
}

// The checks that need ffprobe are skipped (and counted as skipped) when it is not on PATH.
const hasFf = await hasTool("ffprobe");

describe("FLV", () => {
  let flvFixture: Uint8Array;
  let h264Ts: Uint8Array;
  let h265Ts: Uint8Array;

  beforeAll(async () => {
    flvFixture = await loadFixture(new URL("testdata/ffmpeg_h264_aac.flv", import.meta.url));
    h264Ts = await loadFixture(new URL("../mpegts/testdata/ffmpeg_h264_aac.mpegts", import.meta.url));
    h265Ts = await loadFixture(new URL("../mpegts/testdata/ffmpeg_h265_aac.mpegts", import.meta.url));
  });

  it("demuxes ffmpeg's FLV: metadata, codecs, all 50 video and 88 audio frames", () => {
    const { demux, frames } = demuxFlv(flvFixture, 333);
    expect(demux.errors).toBe(0);
    expect(demux.ready).toBe(true);
    expect(demux.metadata?.width).toBe(320);
    expect(demux.metadata?.videocodecid).toBe(7);
    expect(demux.video?.codec.name).toBe("H264");
    expect(demux.video?.codec.fmtp).toMatch(/profile-level-id=64000d;sprop-parameter-sets=Z2QADa/);
    expect(demux.audio?.codec).toMatchObject({ name: "MPEG4-GENERIC", clockRate: 44100, channels: 1 });
    const video = frames.filter((f) => f.track.kind === "video");
    const audio = frames.filter((f) => f.track.kind === "audio");
    expect(video.length).toBe(50);
    expect(audio.length).toBe(88);
    expect(video.filter((f) => f.frame.keyframe).length).toBe(2); // GOP 25 over 2 s
    expect(video[0].frame.keyframe).toBe(true);
    // B-frames: composition offsets in 90 kHz.
    expect(video[0].frame.cts).toBe(7200);
    expect(video[1].frame.timestamp).toBe(3600);
    // AAC timestamps sit on the 1024-sample grid despite FLV's millisecond rounding.
    for (let i = 1; i < audio.length; i++) {
      expect(audio[i].frame.timestamp - audio[i - 1].frame.timestamp).toBe(1024);
    }
  });

  it.skipIf(!hasFf)("remuxes FLV -> FLV that ffprobe reads with every frame", async () => {
    const { demux, frames } = demuxFlv(flvFixture);
    const tracks = demux.tracks;
    const mux = new FlvMuxer(tracks.map((t) => ({ codec: t.codec })), { timeBase: "shared" });
    const parts: Uint8Array[] = [];
    for (const { track, frame } of frames) {
      const out = mux.push(tracks.indexOf(track), frame);
      if (out) parts.push(out);
    }
    const flv = concatBytes(parts);
    const probe = await ffprobeBytes(flv, "flv");
    expect(probe.stderr).toBe("");
    const v = probe.streams.find((s) => s.codec_type === "video")!;
    const a = probe.streams.find((s) => s.codec_type === "audio")!;
    expect([v.codec_name, v.width, v.height, Number(v.nb_read_frames)]).toEqual(["h264", 320, 240, 50]);
    expect([a.codec_name, a.sample_rate, Number(a.nb_read_frames)]).toEqual(["aac", "44100", 88]);
    const decoded = await ffmpegDecode(flv, "flv");
    expect(decoded.stderr).toBe("");
    expect(decoded.code).toBe(0);
  }, 20_000);

  it.skipIf(!hasFf)("muxes MPEG-TS H.264 + AAC into FLV that ffprobe reads", async () => {
    const { demux, frames } = demuxTs(h264Ts);
    const mux = new FlvMuxer(demux.tracks.map((t) => ({ codec: t.codec })), { timeBase: "shared" });
    const parts: Uint8Array[] = [];
    for (const { track, frame } of frames) {
      const out = mux.push(demux.tracks.indexOf(track), frame);
      if (out) parts.push(out);
    }
    const flv = concatBytes(parts);
    const meta = decodeAmf0(flv.subarray(13 + 11, 13 + 11 + ((flv[14] << 16) | (flv[15] << 8) | flv[16])));
    expect(meta[0]).toBe("onMetaData");
    expect(meta[1]).toMatchObject({ width: 320, height: 240, videocodecid: 7, audiocodecid: 10 });
    const probe = await ffprobeBytes(flv, "flv");
    expect(probe.stderr).toBe("");
    const v = probe.streams.find((s) => s.codec_type === "video")!;
    expect([v.codec_name, Number(v.nb_read_frames)]).toEqual(["h264", 50]);
    const a = probe.streams.find((s) => s.codec_type === "audio")!;
    // One AAC frame precedes the first video keyframe and is left out.
    expect([a.codec_name, Number(a.nb_read_frames)]).toEqual(["aac", 87]);
  }, 20_000);

  it("round-trips H.265 as enhanced-RTMP hvc1 and as legacy codec id 12", () => {
    // ffmpeg 5.1 reads neither HEVC flavour of FLV, so our demuxer is the peer here.
    const { demux, frames } = demuxTs(h265Ts);
    const video = frames.filter((f) => f.track.kind === "video");
    for (const hevc of ["enhanced", "legacy"] as const) {
      const mux = new FlvMuxer(demux.tracks.map((t) => ({ codec: t.codec })), { timeBase: "shared", hevc });
      const parts: Uint8Array[] = [];
      for (const { track, frame } of frames) {
        const out = mux.push(demux.tracks.indexOf(track), frame);
        if (out) parts.push(out);
      }
      const back = demuxFlv(concatBytes(parts), 1000);
      expect(back.demux.errors).toBe(0);
      expect(back.demux.video?.codec.name).toBe("H265");
      expect(back.demux.video?.codec.fmtp).toMatch(/sprop-vps=.*;sprop-sps=.*;sprop-pps=/);
      const backVideo = back.frames.filter((f) => f.track.kind === "video");
      expect(backVideo.length).toBe(video.length);
      expect(backVideo.map((f) => f.frame.data)).toEqual(video.map((f) => f.frame.data));
      expect(backVideo.map((f) => f.frame.keyframe)).toEqual(video.map((f) => f.frame.keyframe));
    }
  });

  it("carries G.711 and keeps 8 kHz timestamps", () => {
    const mux = new FlvMuxer([{ codec: { name: "PCMU", clockRate: 8000 } }]);
    const parts: Uint8Array[] = [];
    for (let i = 0; i < 5; i++) {
      const frame: Frame = { timestamp: 1000 + i * 160, keyframe: true, data: new Uint8Array(160).fill(i) };
      parts.push(mux.push(0, frame)!);
    }
    const back = demuxFlv(concatBytes(parts));
    expect(back.demux.audio?.codec).toEqual({ name: "PCMU", clockRate: 8000 });
    expect(back.frames.map((f) => f.frame.timestamp)).toEqual([0, 160, 320, 480, 640]);
    expect(back.frames[3].frame.data).toEqual(new Uint8Array(160).fill(3));
    expect(() => new FlvMuxer([{ codec: { name: "OPUS", clockRate: 48000 } }])).toThrow(FlvCodecError);
  });

  it("skips garbage between tags and keeps going", () => {
    const clean = demuxFlv(flvFixture).frames.length;
    // Cut the file after a few tags, insert junk, continue.
    const cut = 5000;
    const junk = new Uint8Array(300).map((_, i) => (i * 37) & 0xff);
    const broken = concatBytes([flvFixture.subarray(0, cut), junk, flvFixture.subarray(cut)]);
    const { demux, frames } = demuxFlv(broken, 512);
    expect(demux.errors).toBeGreaterThan(0);
    // At most the tag that was cut is lost.
    expect(frames.length).toBeGreaterThanOrEqual(clean - 1);
  });

  it("splits muxer output into tags for RTMP (no file header)", () => {
    const asc = "config=1190";
    const mux = new FlvMuxer([{ codec: { name: "MPEG4-GENERIC", clockRate: 48000, fmtp: asc } }], {
      fileHeader: false,
    });
    const first = readFlvTags(mux.push(0, { timestamp: 0, keyframe: true, data: new Uint8Array([1]) })!);
    expect(first.map((t) => [t.type, t.timestamp])).toEqual([[18, 0], [8, 0], [8, 0]]);
    expect([...first[1].body]).toEqual([0xaf, 0, 0x11, 0x90]);
    const next = readFlvTags(mux.push(0, { timestamp: 1024, keyframe: true, data: new Uint8Array([2]) })!);
    expect(next.map((t) => [t.type, t.timestamp, [...t.body]])).toEqual([[8, 21, [0xaf, 1, 2]]]);
    expect(() => readFlvTags(new Uint8Array(12))).toThrow(RangeError);
  });

  it("parses RTMP message payloads through pushTag", () => {
    const demux = new FlvDemuxer({ fileHeader: false });
    const asc = new Uint8Array([0x11, 0x90]); // AAC-LC 48 kHz stereo
    expect(demux.pushTag(FlvTagType.AUDIO, 0, new Uint8Array([0xaf, 0, ...asc]))).toEqual([]);
    const frames = demux.pushTag(FlvTagType.AUDIO, 21, new Uint8Array([0xaf, 1, 9, 9]));
    expect(frames.length).toBe(1);
    expect(frames[0].frame).toEqual({ timestamp: 1008, keyframe: true, data: new Uint8Array([9, 9]) });
    expect(demux.audio?.codec).toMatchObject({ name: "MPEG4-GENERIC", clockRate: 48000, channels: 2 });
    // A whole tag built with buildFlvTag goes through push() too (bare tags, no file header).
    const tagDemux = new FlvDemuxer({ fileHeader: false });
    tagDemux.push(buildFlvTag(FlvTagType.AUDIO, 0, [new Uint8Array([0xaf, 0]), asc]));
    expect(tagDemux.audio?.ready).toBe(true);
  });
});
