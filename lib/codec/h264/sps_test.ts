import { describe, expect, it } from "bun:test";
import { fixtureNal } from "../annexb/_test_util.ts";
import { BitWriter } from "./_bit_writer.ts";
import { BitstreamError } from "./bit_reader.ts";
import { parseH264Sps } from "./sps.ts";

const fixtureSps = (name: string) => fixtureNal("h264", name, 7);

describe("parseH264Sps on libx264 streams", () => {
  // Expected values as ffprobe reports them for the same files.
  const cases: [string, Record<string, unknown>][] = [
    ["ffmpeg_h264_1920x1080_high.h264", {
      profileIdc: 100,
      levelIdc: 40,
      width: 1920,
      height: 1080,
      chromaFormatIdc: 1,
      fps: 25,
    }],
    ["ffmpeg_h264_1280x720_main.h264", {
      profileIdc: 77,
      levelIdc: 31,
      width: 1280,
      height: 720,
      chromaFormatIdc: 1,
    }],
    ["ffmpeg_h264_320x240_baseline.h264", {
      profileIdc: 66,
      levelIdc: 13,
      width: 320,
      height: 240,
      frameMbsOnly: true,
    }],
    ["ffmpeg_h264_640x360.h264", { profileIdc: 100, levelIdc: 30, width: 640, height: 360, fps: 25 }],
    ["ffmpeg_h264_640x360_high422.h264", { profileIdc: 122, width: 640, height: 360, chromaFormatIdc: 2 }],
    ["ffmpeg_h264_642x362_high444.h264", {
      profileIdc: 244,
      width: 642,
      height: 362,
      chromaFormatIdc: 3,
      bitDepthLuma: 8,
    }],
    ["ffmpeg_h264_720x576_interlaced.h264", {
      profileIdc: 100,
      width: 720,
      height: 576,
      frameMbsOnly: false,
    }],
  ];
  for (const [name, want] of cases) {
    it(`${name}`, async () => {
      expect(parseH264Sps(await fixtureSps(name))).toMatchObject(want);
    });
  }

  it("reads constraint flags (constrained baseline sets constraint_set1)", async () => {
    const sps = parseH264Sps(await fixtureSps("ffmpeg_h264_320x240_baseline.h264"));
    expect(sps.constraintFlags & 0x40).toBe(0x40);
    expect(parseH264Sps(await fixtureSps("ffmpeg_h264_640x360.h264")).constraintFlags).toBe(0);
  });
});

/** An SPS written field by field: the cases x264 never produces. */
function buildSps(o: {
  profileIdc: number;
  scaling?: boolean;
  pocType?: number;
  widthMbs: number;
  heightUnits: number;
  frameMbsOnly?: boolean;
  crop?: [number, number, number, number];
  chromaFormatIdc?: number;
  timing?: [number, number];
  sar?: boolean;
}): Uint8Array {
  const w = new BitWriter().u(8, o.profileIdc).u(8, 0x0c).u(8, 41).ue(0);
  if (o.profileIdc === 100 || o.profileIdc === 244) {
    w.ue(o.chromaFormatIdc ?? 1);
    if (o.chromaFormatIdc === 3) w.flag(false);
    w.ue(2).ue(2).flag(false); // 10-bit
    w.flag(!!o.scaling);
    if (o.scaling) {
      const lists = o.chromaFormatIdc === 3 ? 12 : 8;
      for (let i = 0; i < lists; i++) {
        const present = i % 2 === 0;
        w.flag(present);
        if (present) {
          const size = i < 6 ? 16 : 64;
          // Deltas that walk the list and finally end it early with next_scale = 0.
          for (let j = 0; j < size; j++) {
            if (j === size - 3) {
              w.se(-(8 + j)); // next_scale becomes 0
              break;
            }
            w.se(1);
          }
        }
      }
    }
  }
  w.ue(0); // log2_max_frame_num_minus4
  w.ue(o.pocType ?? 0);
  if ((o.pocType ?? 0) === 0) w.ue(2);
  else if (o.pocType === 1) {
    w.flag(false).se(-3).se(5).ue(3).se(1).se(-2).se(7);
  }
  w.ue(4).flag(false).ue(o.widthMbs - 1).ue(o.heightUnits - 1);
  w.flag(o.frameMbsOnly ?? true);
  if (!(o.frameMbsOnly ?? true)) w.flag(true);
  w.flag(true);
  w.flag(!!o.crop);
  if (o.crop) { for (const c of o.crop) w.ue(c); }
  const vui = !!o.timing || !!o.sar;
  w.flag(vui);
  if (vui) {
    w.flag(!!o.sar);
    if (o.sar) w.u(8, 255).u(16, 4).u(16, 3);
    w.flag(false).flag(true).u(3, 5).flag(false).flag(true).u(8, 1).u(8, 1).u(8, 1);
    w.flag(true).ue(0).ue(0);
    w.flag(!!o.timing);
    if (o.timing) w.u(32, o.timing[0]).u(32, o.timing[1]).flag(true);
  }
  return w.nal(0x67);
}

describe("parseH264Sps on constructed parameter sets", () => {
  it("skips scaling lists and reads 10-bit depth", () => {
    const sps = parseH264Sps(
      buildSps({
        profileIdc: 100,
        scaling: true,
        widthMbs: 120,
        heightUnits: 68,
        crop: [0, 0, 0, 4],
        timing: [1001, 60000],
      }),
    );
    expect(sps).toMatchObject({
      profileIdc: 100,
      constraintFlags: 0x0c,
      levelIdc: 41,
      width: 1920,
      height: 1080,
      bitDepthLuma: 10,
    });
    expect(sps.fps).toBe(29.97);
  });

  it("skips 12 scaling lists for 4:4:4 and uses crop unit 1", () => {
    const sps = parseH264Sps(
      buildSps({
        profileIdc: 244,
        chromaFormatIdc: 3,
        scaling: true,
        widthMbs: 41,
        heightUnits: 23,
        crop: [0, 14, 0, 6],
      }),
    );
    expect(sps).toMatchObject({ width: 642, height: 362, chromaFormatIdc: 3 });
  });

  it("handles pic_order_cnt_type 1, field coding and extended SAR before the timing", () => {
    const sps = parseH264Sps(
      buildSps({
        profileIdc: 77,
        pocType: 1,
        widthMbs: 45,
        heightUnits: 18,
        frameMbsOnly: false,
        crop: [0, 0, 0, 0],
        timing: [1, 50],
        sar: true,
      }),
    );
    expect(sps).toMatchObject({ profileIdc: 77, width: 720, height: 576, frameMbsOnly: false, fps: 25 });
  });

  it("crops in units of 2 lines per field pair for interlaced 4:2:0", () => {
    const sps = parseH264Sps(
      buildSps({ profileIdc: 77, widthMbs: 120, heightUnits: 34, frameMbsOnly: false, crop: [0, 0, 0, 2] }),
    );
    expect(sps.height).toBe(34 * 32 - 8);
    expect(sps.fps).toBeUndefined();
  });

  it("keeps size and drops fps when only the VUI is cut short", () => {
    const full = buildSps({ profileIdc: 66, widthMbs: 40, heightUnits: 30, timing: [1, 60] });
    const sps = parseH264Sps(full.subarray(0, full.length - 6));
    expect(sps).toMatchObject({ width: 640, height: 480 });
    expect(sps.fps).toBeUndefined();
  });
});

describe("parseH264Sps errors", () => {
  it("names the field of a truncated SPS", () => {
    const full = buildSps({ profileIdc: 100, widthMbs: 120, heightUnits: 68 });
    let caught: unknown;
    try {
      parseH264Sps(full.subarray(0, 5));
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(BitstreamError);
    expect(caught).toBeInstanceOf(SyntaxError);
    const e = caught as BitstreamError;
    expect(e.what).toBe("H.264 SPS");
    expect(e.field.length).toBeGreaterThan(0);
    expect(e.message).toMatch(/^Cannot parse H\.264 SPS: \w+ at bit \d+ /);
  });

  it("rejects other NAL types and tiny input", () => {
    expect(() => parseH264Sps(new Uint8Array([0x68, 1, 2, 3, 4]))).toThrow(
      /nal_unit_type .* is 8, expected 7/,
    );
    expect(() => parseH264Sps(new Uint8Array([0x67]))).toThrow(BitstreamError);
  });

  it("rejects an out-of-range chroma_format_idc", () => {
    const nal = new BitWriter().u(8, 100).u(8, 0).u(8, 30).ue(0).ue(7).ue(0).nal(0x67);
    expect(() => parseH264Sps(nal)).toThrow(/chroma_format_idc/);
  });
});
