import { beforeAll, describe, expect, it } from "bun:test";
import type { Frame } from "../../core/frame.ts";
import { type TsDemuxedFrame, TsDemuxer } from "./ts_demuxer.ts";
import { TsCodecError, TsMuxer } from "./ts_muxer.ts";
import { buildPatSection, buildPmtSection, parsePatSection, parsePmtSection, TsPsiError } from "./ts_psi.ts";
import { crc32Mpeg2, readPesTimestamp, TS_PACKET_SIZE, writePesTimestamp } from "./ts_packet.ts";
import { type ProbeStream, ffmpegDecode, ffprobeBytes } from "../../../tests/_support/ffmpeg.ts";
import { loadFixture } from "../../../tests/_support/fixtures.ts";
import { concatBytes, hasTool } from "../../../tests/_support/process.ts";

function demux(data: Uint8Array, chunk = data.length): { demux: TsDemuxer; frames: TsDemuxedFrame[] } {
  const d = new TsDemuxer();
  const frames: TsDemuxedFrame[] = [];
  for (let i = 0; i < data.length; i += chunk) frames.push(...d.push(data.subarray(i, i + chunk)));
  frames.push(...d.flush());
  return { demux: d, frames };
}

function remux(d: TsDemuxer, frames: TsDemuxedFrame[]): Uint8Array {
  const mux = new TsMuxer(d.tracks.map((t) => ({ codec: t.codec })), { timeBase: "shared" });
  const parts: Uint8Array[] = [];
  for (const { track, frame } of frames) {
    const out = mux.push(d.tracks.indexOf(track), frame);
    if (out) parts.push(out);
  }
  return concatBytes(parts);
}

const count = (frames: TsDemuxedFrame[], name: string) =>
  frames.filter((f) => f.track.codec.name === name).length;
const stream = (streams: ProbeStream[], type: string) => streams.find((s) => s.codec_type === type)!;

// The checks that need ffprobe are skipped (and counted as skipped) when it is not on PATH.
const hasFf = await hasTool("ffprobe");

describe("MPEG-TS", () => {
  const fx: Record<string, Uint8Array> = {};

  beforeAll(async () => {
    for (const name of ["h264_aac", "h264_bframes_aac", "h265_aac", "opus"]) {
      fx[name] = await loadFixture(new URL(`testdata/ffmpeg_${name}.mpegts`, import.meta.url));
    }
  });

  it("CRC-32/MPEG-2 and PTS fields", () => {
    expect(crc32Mpeg2(new TextEncoder().encode("123456789"))).toBe(0x0376e6e7);
    const b = new Uint8Array(5);
    for (const t of [0, 1, 126000, 0x1ffffffff, 2 ** 32 + 12345]) {
      writePesTimestamp(b, 0, 0b0010, t);
      expect(readPesTimestamp(b, 0)).toBe(t);
      expect(b[0] & 1).toBe(1);
      expect(b[2] & 1).toBe(1);
      expect(b[4] & 1).toBe(1);
    }
  });

  it("builds and parses PAT/PMT sections, and rejects a bad CRC", () => {
    const pat = buildPatSection(1, 0x1000);
    expect(parsePatSection(pat)).toEqual(new Map([[1, 0x1000]]));
    const desc = new Uint8Array([0x05, 4, 0x4f, 0x70, 0x75, 0x73]);
    const pmt = buildPmtSection(1, 0x100, [
      { streamType: 0x1b, pid: 0x100, descriptors: new Uint8Array() },
      { streamType: 0x06, pid: 0x101, descriptors: desc },
    ]);
    const parsed = parsePmtSection(pmt);
    expect(parsed.pcrPid).toBe(0x100);
    expect(parsed.streams.map((s) => [s.streamType, s.pid])).toEqual([[0x1b, 0x100], [0x06, 0x101]]);
    expect(parsed.streams[1].descriptors).toEqual(desc);
    const bad = pmt.slice();
    bad[bad.length - 1] ^= 1;
    expect(() => parsePmtSection(bad)).toThrow(TsPsiError);
  });

  it("demuxes ffmpeg's H.264 + AAC: codecs, every frame, same result for any chunking", () => {
    const whole = demux(fx.h264_aac);
    expect(whole.demux.errors).toBe(0);
    expect(whole.demux.ready).toBe(true);
    const [video, audio] = whole.demux.tracks;
    expect(video.codec.name).toBe("H264");
    expect(video.codec.fmtp).toMatch(/profile-level-id=64000d;sprop-parameter-sets=/);
    expect(audio.codec).toMatchObject({ name: "MPEG4-GENERIC", clockRate: 44100, channels: 1 });
    expect(audio.codec.fmtp).toMatch(/config=1208/);
    expect(count(whole.frames, "H264")).toBe(50);
    expect(count(whole.frames, "MPEG4-GENERIC")).toBe(88);
    const keyframes = whole.frames.filter((f) => f.frame.keyframe && f.track === video);
    expect(keyframes.length).toBe(2);
    // AVCC out, AUD dropped: the first NAL unit of the keyframe is the SPS.
    const first = whole.frames.find((f) => f.track === video)!.frame;
    expect(first.data[4] & 0x1f).toBe(7);
    for (const size of [1, 100, 188, 1000]) {
      const chunked = demux(fx.h264_aac, size);
      expect(chunked.frames.length).toBe(whole.frames.length);
      expect(chunked.frames[77].frame).toEqual(whole.frames[77].frame);
    }
  });

  it("gives B-frames their composition offset (PTS - DTS)", () => {
    const { frames } = demux(fx.h264_bframes_aac);
    const video = frames.filter((f) => f.track.codec.name === "H264").map((f) => f.frame);
    expect(video.length).toBe(50);
    expect(video[0].cts).toBe(7200);
    // DTS runs one frame behind PTS (has_b_frames delay), so every offset is a multiple of a frame.
    expect(new Set(video.map((f) => (f.cts ?? 0) % 3600))).toEqual(new Set([0]));
    expect(video.filter((f) => f.cts === 3600).length).toBeGreaterThan(10);
    for (let i = 1; i < video.length; i++) expect(video[i].timestamp - video[i - 1].timestamp).toBe(3600);
  });

  it("demuxes H.265 and Opus (registration descriptor)", () => {
    const h265 = demux(fx.h265_aac);
    expect(h265.demux.tracks[0].codec.name).toBe("H265");
    expect(h265.demux.tracks[0].codec.fmtp).toMatch(/^sprop-vps=.*;sprop-sps=.*;sprop-pps=/);
    expect(count(h265.frames, "H265")).toBe(50);
    const opus = demux(fx.opus);
    expect(opus.demux.tracks.map((t) => t.codec)).toEqual([{ name: "OPUS", clockRate: 48000, channels: 1 }]);
    const frames = opus.frames.map((f) => f.frame);
    expect(frames.length).toBe(51);
    expect(frames[1].timestamp - frames[0].timestamp).toBe(960);
  });

  it("survives garbage, a lost packet and truncation without throwing", () => {
    const clean = demux(fx.h264_aac).frames.length;
    const data = fx.h264_aac;
    const junk = new Uint8Array(500).map((_, i) => (i % 3 ? 0x47 : i & 0xff));
    const cut = 188 * 40;
    const lost = 188 * 80;
    const broken = concatBytes([
      data.subarray(0, cut),
      junk,
      data.subarray(cut, lost),
      data.subarray(lost + 188), // one packet missing: a continuity gap
      data.subarray(0, 100), // a partial packet at the end
    ]);
    const { demux: d, frames } = demux(broken, 777);
    expect(d.errors).toBeGreaterThanOrEqual(2);
    expect(frames.length).toBeGreaterThan(clean - 4);
    expect(frames.length).toBeLessThanOrEqual(clean);
    expect(demux(new Uint8Array(10000).fill(0x47)).frames).toEqual([]);
  });

  it.skipIf(!hasFf)("remuxes H.264 + AAC, with and without B-frames, into TS that ffprobe decodes", async () => {
    for (const name of ["h264_aac", "h264_bframes_aac"]) {
      const { demux: d, frames } = demux(fx[name]);
      const ts = remux(d, frames);
      expect(ts.length % TS_PACKET_SIZE).toBe(0);
      const probe = await ffprobeBytes(ts, "ts");
      expect(probe.stderr).toBe("");
      const v = stream(probe.streams, "video");
      expect([v.codec_name, v.width, v.height, Number(v.nb_read_frames)]).toEqual(["h264", 320, 240, 50]);
      const a = stream(probe.streams, "audio");
      expect(a.codec_name).toBe("aac");
      expect(Number(a.nb_read_frames)).toBeGreaterThanOrEqual(count(frames, "MPEG4-GENERIC") - 1);
      const decoded = await ffmpegDecode(ts, "ts");
      expect(decoded.stderr).toBe("");
      expect(decoded.code).toBe(0);
      // Our own demuxer reads it back without errors, frame for frame.
      const back = demux(ts, 500);
      expect(back.demux.errors).toBe(0);
      expect(count(back.frames, "H264")).toBe(50);
    }
  }, 30_000);

  it.skipIf(!hasFf)("remuxes H.265 + AAC and Opus into TS that ffprobe decodes", async () => {
    const h265 = demux(fx.h265_aac);
    const probe = await ffprobeBytes(remux(h265.demux, h265.frames), "ts");
    expect(probe.stderr).toBe("");
    const v = stream(probe.streams, "video");
    expect([v.codec_name, v.width, v.height, Number(v.nb_read_frames)]).toEqual(["hevc", 320, 240, 50]);
    const opus = demux(fx.opus);
    const ts = remux(opus.demux, opus.frames);
    const op = await ffprobeBytes(ts, "ts");
    expect(op.stderr).toBe("");
    expect(op.streams.map((s) => [s.codec_name, s.channels, Number(s.nb_read_frames)])).toEqual([[
      "opus",
      1,
      51,
    ]]);
    const decoded = await ffmpegDecode(ts, "ts");
    expect([decoded.code, decoded.stderr]).toEqual([0, ""]);
  }, 30_000);

  it("inserts SPS/PPS from the fmtp before keyframes that lack them", () => {
    const { demux: d, frames } = demux(fx.h264_aac);
    const codec = d.tracks[0].codec;
    const key = frames.find((f) => f.frame.keyframe && f.track.codec.name === "H264")!.frame;
    // Strip the in-band SPS/PPS (the first two NAL units).
    let p = 0;
    for (let i = 0; i < 2; i++) p += 4 + new DataView(key.data.buffer, key.data.byteOffset + p).getUint32(0);
    const bare: Frame = { ...key, data: key.data.subarray(p) };
    expect(bare.data[4] & 0x1f).not.toBe(7);
    const mux = new TsMuxer([{ codec }]);
    const out = mux.push(0, bare)!;
    const back = demux(out);
    expect(back.frames.length).toBe(1);
    expect(back.frames[0].frame.data[4] & 0x1f).toBe(7);
    expect(back.frames[0].frame.keyframe).toBe(true);
  });

  it("starts at a video keyframe, and refuses codecs it cannot carry", () => {
    const { demux: d, frames } = demux(fx.h264_aac);
    const mux = new TsMuxer(d.tracks.map((t) => ({ codec: t.codec })));
    const audioFirst = frames.find((f) => f.track.kind === "audio")!;
    expect(mux.push(1, audioFirst.frame)).toBeUndefined();
    const delta = frames.find((f) => f.track.kind === "video" && !f.frame.keyframe)!;
    expect(mux.push(0, delta.frame)).toBeUndefined();
    expect(mux.dropped).toBe(2);
    expect(() => new TsMuxer([{ codec: { name: "PCMA", clockRate: 8000 } }])).toThrow(TsCodecError);
    expect(() => new TsMuxer([{ codec: { name: "MPEG4-GENERIC", clockRate: 48000 } }])).toThrow(/config/);
  });
});
