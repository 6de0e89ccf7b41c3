import { beforeAll, describe, expect, it } from "bun:test";
import type { Codec } from "../../core/codec.ts";
import type { Frame } from "../../core/frame.ts";
import { Mp4Muxer, type Mp4MuxerOptions, Mp4NotReadyError } from "./mp4_muxer.ts";
import { Mp4CodecError } from "./mp4_track.ts";
import { findBox, findBoxes, readBoxes } from "./mp4_box.ts";
import { type ProbeStream, ffmpegDecode, ffprobeBytes } from "../../../tests/_support/ffmpeg.ts";
import { loadFixture } from "../../../tests/_support/fixtures.ts";
import { concatBytes, hasTool } from "../../../tests/_support/process.ts";
import { type TsDemuxedFrame, TsDemuxer } from "../mpegts/ts_demuxer.ts";

interface Input {
  codecs: Codec[];
  frames: { index: number; frame: Frame }[];
}

function fromTs(data: Uint8Array): Input {
  const demux = new TsDemuxer();
  const frames: TsDemuxedFrame[] = [...demux.push(data), ...demux.flush()];
  return {
    codecs: demux.tracks.map((t) => t.codec),
    frames: frames.map((f) => ({ index: demux.tracks.indexOf(f.track), frame: f.frame })),
  };
}

function g711(data: Uint8Array, name: "PCMA" | "PCMU"): Input {
  const frames = [];
  for (let i = 0; i < data.length; i += 160) {
    frames.push({
      index: 0,
      frame: { timestamp: 123456 + i, keyframe: true, data: data.subarray(i, i + 160) },
    });
  }
  return { codecs: [{ name, clockRate: 8000 }], frames };
}

/** Runs frames through a muxer the way an MSE consumer does; returns the byte stream. */
function mux(input: Input, options?: Mp4MuxerOptions): { bytes: Uint8Array; muxer: Mp4Muxer; inits: number } {
  const muxer = new Mp4Muxer(input.codecs.map((codec) => ({ codec })), options);
  const parts: Uint8Array[] = [];
  let inits = 0;
  for (const { index, frame } of input.frames) {
    const fragment = muxer.push(index, frame);
    if (!fragment) continue;
    if (muxer.needsInit) {
      parts.push(muxer.init());
      inits++;
    }
    parts.push(fragment);
  }
  const last = muxer.flush();
  if (last) parts.push(last);
  return { bytes: concatBytes(parts), muxer, inits };
}

const stream = (streams: ProbeStream[], type: string) => streams.find((s) => s.codec_type === type)!;

async function expectDecodes(bytes: Uint8Array): Promise<void> {
  const decoded = await ffmpegDecode(bytes, "mp4");
  expect(decoded.stderr).toBe("");
  expect(decoded.code).toBe(0);
}

// The checks that need ffprobe are skipped (and counted as skipped) when it is not on PATH.
const hasFf = await hasTool("ffprobe");

describe("Mp4Muxer (fragmented)", () => {
  const fx: Record<string, Uint8Array> = {};

  beforeAll(async () => {
    for (const name of ["h264_aac", "h264_bframes_aac", "h265_aac", "opus"]) {
      fx[name] = await loadFixture(new URL(`../mpegts/testdata/ffmpeg_${name}.mpegts`, import.meta.url));
    }
    fx.alaw = await loadFixture(new URL("testdata/ffmpeg_sine.alaw", import.meta.url));
    fx.ulaw = await loadFixture(new URL("testdata/ffmpeg_sine.ulaw", import.meta.url));
  });

  it("writes an init segment with ftyp iso5, one trak per track and mvex/trex", () => {
    const { bytes, muxer, inits } = mux(fromTs(fx.h264_aac), { timeBase: "shared" });
    expect(inits).toBe(1);
    expect(muxer.mimeType()).toBe('video/mp4; codecs="avc1.64000d,mp4a.40.2"');
    const top = readBoxes(bytes).map((b) => b.type);
    expect(top.slice(0, 4)).toEqual(["ftyp", "moov", "moof", "mdat"]);
    expect(top.filter((t) => t === "moof").length).toBe(50 + 87); // one fragment per frame
    expect(String.fromCharCode(...bytes.subarray(8, 12))).toBe("iso5");
    expect(findBoxes(bytes, "moov/trak").length).toBe(2);
    expect(findBoxes(bytes, "moov/mvex/trex").length).toBe(2);
    expect(findBox(bytes, "moov/trak/mdia/minf/stbl/stsd/avc1")).toBeDefined();
    expect(findBox(bytes, "moov/trak/mdia/minf/stbl/stsd/mp4a")).toBeDefined();
    // tfdt of the second video fragment: one frame (3600 ticks at 90 kHz) after the first.
    const moofs = findBoxes(bytes, "moof");
    const tfdt = (i: number) => {
      const box = findBox(bytes, "traf/tfdt", moofs[i].payload, moofs[i].end)!;
      return new DataView(bytes.buffer, bytes.byteOffset).getUint32(box.payload + 8);
    };
    expect(tfdt(0)).toBe(0);
    const videoFragments = moofs.map((_, i) => i).filter((i) => {
      const tfhd = findBox(bytes, "traf/tfhd", moofs[i].payload, moofs[i].end)!;
      return new DataView(bytes.buffer, bytes.byteOffset).getUint32(tfhd.payload + 4) === 1;
    });
    expect(tfdt(videoFragments[1])).toBe(3600);
    // The first video sample has no successor yet: its duration comes from the SPS frame rate (25).
    const trun = findBox(bytes, "traf/trun", moofs[videoFragments[0]].payload, moofs[videoFragments[0]].end)!;
    expect(new DataView(bytes.buffer, bytes.byteOffset).getUint32(trun.payload + 12)).toBe(3600);
  });

  it.skipIf(!hasFf)("H.264 + AAC fMP4 plays in ffmpeg with every frame", async () => {
    const { bytes } = mux(fromTs(fx.h264_aac), { timeBase: "shared" });
    const probe = await ffprobeBytes(bytes, "mp4");
    expect(probe.stderr).toBe("");
    const v = stream(probe.streams, "video");
    expect([v.codec_name, v.width, v.height, Number(v.nb_read_frames)]).toEqual(["h264", 320, 240, 50]);
    const a = stream(probe.streams, "audio");
    expect([a.codec_name, a.sample_rate, a.channels, Number(a.nb_read_frames)]).toEqual([
      "aac",
      "44100",
      1,
      87,
    ]);
    await expectDecodes(bytes);
  }, 20_000);

  it.skipIf(!hasFf)("B-frames: composition offsets in trun, decodes cleanly", async () => {
    const { bytes } = mux(fromTs(fx.h264_bframes_aac), { timeBase: "shared" });
    const trun = findBox(bytes, "moof/traf/trun")!;
    expect(bytes[trun.payload]).toBe(1); // version 1: signed offsets
    expect(bytes[trun.payload + 2] & 0x08).toBe(0x08); // sample-composition-time-offsets-present
    const probe = await ffprobeBytes(bytes, "mp4");
    expect(probe.stderr).toBe("");
    expect(Number(stream(probe.streams, "video").nb_read_frames)).toBe(50);
    await expectDecodes(bytes);
  }, 20_000);

  it.skipIf(!hasFf)("H.265 (hvc1 + hvcC) and Opus (dOps) fMP4", async () => {
    const h265 = mux(fromTs(fx.h265_aac), { timeBase: "shared" });
    expect(h265.muxer.mimeCodecs()).toMatch(/^hvc1\.1\.6\.L60\.[0-9A-F]+,mp4a\.40\.2$/);
    const opus = mux(fromTs(fx.opus));
    expect(opus.muxer.mimeType()).toBe('audio/mp4; codecs="opus"');
    const p = await ffprobeBytes(h265.bytes, "mp4");
    expect(p.stderr).toBe("");
    const v = stream(p.streams, "video");
    expect([v.codec_name, v.width, v.height, Number(v.nb_read_frames)]).toEqual(["hevc", 320, 240, 50]);
    await expectDecodes(h265.bytes);
    const o = await ffprobeBytes(opus.bytes, "mp4");
    expect(o.stderr).toBe("");
    expect(o.streams.map((s) => [s.codec_name, s.channels, Number(s.nb_read_frames)])).toEqual([[
      "opus",
      1,
      51,
    ]]);
    await expectDecodes(opus.bytes);
  }, 20_000);

  it.skipIf(!hasFf)("PCMA and PCMU become FLAC that decodes to exactly what ffmpeg's G.711 decoder gives", async () => {
    for (const [law, name] of [["alaw", "PCMA"], ["ulaw", "PCMU"]] as const) {
      const { bytes, muxer } = mux(g711(fx[law], name));
      expect(muxer.mimeType()).toBe('audio/mp4; codecs="flac"');
      expect(findBox(bytes, "moov/trak/mdia/minf/stbl/stsd/fLaC")).toBeDefined();
      const probe = await ffprobeBytes(bytes, "mp4");
      expect(probe.stderr).toBe("");
      expect(probe.streams.map((s) => [s.codec_name, s.sample_rate, Number(s.nb_read_frames)])).toEqual([
        ["flac", "8000", 50],
      ]);
      const ours = await ffmpegDecode(bytes, "mp4", ["-f", "s16le", "-"]);
      expect([ours.code, ours.stderr]).toEqual([0, ""]);
      const format = law === "alaw" ? "alaw" : "mulaw";
      const reference = await ffmpegDecode(fx[law], law, ["-f", "s16le", "-"], ["-f", format, "-ar", "8000"]);
      expect(reference.code).toBe(0);
      expect(ours.stdout.length).toBe(reference.stdout.length);
      expect(ours.stdout.every((b, i) => b === reference.stdout[i])).toBe(true);
    }
  }, 30_000);

  it.skipIf(!hasFf)("L16 (big-endian PCM) becomes FLAC and decodes to the same samples", async () => {
    const pcm = new Uint8Array(16000 * 2 * 2); // 1 s of 16 kHz stereo
    const view = new DataView(pcm.buffer);
    for (let i = 0; i < pcm.length / 2; i++) view.setInt16(i * 2, Math.round(9000 * Math.sin(i / 7)));
    const frames = [];
    for (let i = 0; i < pcm.length; i += 640 * 2) {
      frames.push({
        index: 0,
        frame: { timestamp: i / 4, keyframe: true, data: pcm.subarray(i, i + 640 * 2) },
      });
    }
    const { bytes } = mux({ codecs: [{ name: "L16", clockRate: 16000, channels: 2 }], frames });
    const out = await ffmpegDecode(bytes, "mp4", ["-f", "s16be", "-"]);
    expect([out.code, out.stderr]).toEqual([0, ""]);
    expect(out.stdout.length).toBe(pcm.length);
    expect(out.stdout.every((b, i) => b === pcm[i])).toBe(true);
  }, 20_000);

  it.skipIf(!hasFf)("batches frames: fragmentFrames and fragmentAtKeyframe (GOP fragments)", async () => {
    const input = fromTs(fx.h264_aac);
    const gop = mux(input, { timeBase: "shared", fragmentAtKeyframe: true, fragmentFrames: 1000 });
    const moofs = findBoxes(gop.bytes, "moof");
    expect(moofs.length).toBe(2); // two GOPs of 25 frames
    expect(findBoxes(gop.bytes, "moof/traf", moofs[0].start, moofs[0].end).length).toBe(2);
    const every10 = mux(input, { timeBase: "shared", fragmentFrames: 10 });
    expect(findBoxes(every10.bytes, "moof").length).toBe(Math.ceil((50 + 87) / 10));
    for (const bytes of [gop.bytes, every10.bytes]) {
      const probe = await ffprobeBytes(bytes, "mp4");
      expect(probe.stderr).toBe("");
      expect(Number(stream(probe.streams, "video").nb_read_frames)).toBe(50);
      expect(Number(stream(probe.streams, "audio").nb_read_frames)).toBe(87);
    }
  }, 20_000);

  it("waits for parameter sets and a keyframe, buffering nothing", () => {
    const input = fromTs(fx.h264_aac);
    // The codec without sprop-parameter-sets: the muxer learns them from the first keyframe.
    const bare = { ...input.codecs[0], fmtp: "packetization-mode=1" };
    const muxer = new Mp4Muxer([{ codec: bare }, { codec: input.codecs[1] }]);
    expect(muxer.ready).toBe(false);
    expect(() => muxer.init()).toThrow(Mp4NotReadyError);
    const audio = input.frames.find((f) => f.index === 1)!;
    expect(muxer.push(1, audio.frame)).toBeUndefined();
    const delta = input.frames.find((f) => f.index === 0 && !f.frame.keyframe)!;
    expect(muxer.push(0, delta.frame)).toBeUndefined();
    expect(muxer.dropped).toBe(2);
    const key = input.frames.find((f) => f.index === 0 && f.frame.keyframe)!;
    const fragment = muxer.push(0, key.frame);
    expect(fragment).toBeDefined();
    expect(muxer.ready).toBe(true);
    expect(muxer.needsInit).toBe(true);
    muxer.init();
    expect(muxer.needsInit).toBe(false);
    expect(muxer.mimeCodecs()).toBe("avc1.64000d,mp4a.40.2");
  });

  it("asks for a new init segment when the SPS changes", () => {
    const a = fromTs(fx.h264_aac);
    const b = fromTs(fx.h264_bframes_aac); // same size, different SPS
    const muxer = new Mp4Muxer([{ codec: a.codecs[0] }]);
    const keyA = a.frames.find((f) => f.frame.keyframe && f.index === 0)!.frame;
    const keyB = b.frames.find((f) => f.frame.keyframe && f.index === 0)!.frame;
    muxer.push(0, keyA);
    muxer.init();
    expect(muxer.needsInit).toBe(false);
    muxer.push(0, { ...keyB, timestamp: keyA.timestamp + 3600 });
    expect(muxer.needsInit).toBe(true);
  });

  it("refuses codecs it cannot carry and AAC without config", () => {
    expect(() => new Mp4Muxer([{ codec: { name: "VP8", clockRate: 90000 } }])).toThrow(Mp4CodecError);
    expect(() => new Mp4Muxer([{ codec: { name: "MPEG4-GENERIC", clockRate: 44100 } }])).toThrow(/config/);
    expect(() => new Mp4Muxer([])).toThrow(RangeError);
    const muxer = new Mp4Muxer([{ codec: { name: "PCMA", clockRate: 8000 } }]);
    expect(() => muxer.push(3, { timestamp: 0, keyframe: true, data: new Uint8Array(1) })).toThrow(
      RangeError,
    );
  });
});
