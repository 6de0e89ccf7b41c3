import { describe, expect, it } from "bun:test";
import { fixtureNal } from "../annexb/_test_util.ts";
import { BitstreamError } from "../h264/bit_reader.ts";
import { BitWriter } from "../h264/_bit_writer.ts";
import { parseH265Sps } from "./sps.ts";

const fixtureSps = (name: string) => fixtureNal("h265", name, 33);

describe("parseH265Sps on libx265 streams", () => {
  // Profile, compatibility and constraint values as ffmpeg writes them into hvcC for the same files.
  const cases: [string, Record<string, unknown>, number, number[]][] = [
    [
      "ffmpeg_h265_640x360.hevc",
      { profileIdc: 1, levelIdc: 63, width: 640, height: 360, fps: 25, bitDepthLuma: 8 },
      0x60000000,
      [0x90, 0, 0, 0, 0, 0],
    ],
    [
      "ffmpeg_h265_1920x1080_main.hevc",
      { profileIdc: 1, levelIdc: 120, width: 1920, height: 1080, chromaFormatIdc: 1 },
      0x60000000,
      [0x90, 0, 0, 0, 0, 0],
    ],
    [
      "ffmpeg_h265_1280x720_main10.hevc",
      { profileIdc: 2, levelIdc: 93, width: 1280, height: 720, bitDepthLuma: 10, bitDepthChroma: 10 },
      0x20000000,
      [0x90, 0, 0, 0, 0, 0],
    ],
    [
      "ffmpeg_h265_642x362_main444.hevc",
      { profileIdc: 4, levelIdc: 63, width: 642, height: 362, chromaFormatIdc: 3 },
      0x08000000,
      [0x9e, 0x08, 0, 0, 0, 0],
    ],
  ];
  for (const [name, want, compat, constraint] of cases) {
    it(name, async () => {
      const sps = parseH265Sps(await fixtureSps(name));
      expect(sps).toMatchObject({ ...want, profileSpace: 0, tierFlag: 0 });
      expect(sps.generalProfileCompatibilityFlags).toBe(compat);
      expect([...sps.constraintIndicatorFlags]).toEqual(constraint);
      expect(sps.fps).toBe(25);
    });
  }
});

/** An SPS with what libx265 does not produce: sub-layers, high tier, scaling lists, inter RPS, long-term refs, PCM. */
function buildSps(): Uint8Array {
  const w = new BitWriter();
  w.u(4, 0).u(3, 2).flag(true); // vps id, max_sub_layers_minus1 = 2, temporal nesting
  w.u(2, 0).u(1, 1).u(5, 1).u(32, 0x60000000).u(16, 0xb000).u(32, 0).u(8, 153); // general PTL, high tier
  w.flag(true).flag(true).flag(false).flag(true); // sub-layer 0 profile+level, sub-layer 1 level only
  w.u(2, 0).u(2, 0).u(2, 0).u(2, 0).u(2, 0).u(2, 0); // reserved for i = 2..7
  w.u(32, 0).u(32, 0).u(24, 0).u(8, 90); // sub-layer 0 profile (88 bits) + level
  w.u(8, 90); // sub-layer 1 level
  w.ue(0).ue(1).ue(3840).ue(2176).flag(true).ue(0).ue(0).ue(0).ue(8); // id, 4:2:0, 3840x2176 cropped by 16 lines
  w.ue(0).ue(0).ue(4); // bit depths, log2_max_poc_lsb = 8
  w.flag(true);
  for (let i = 0; i < 3; i++) w.ue(4).ue(2).ue(0);
  w.ue(0).ue(3).ue(0).ue(3).ue(1).ue(1);
  w.flag(true).flag(true); // scaling lists present
  for (let sizeId = 0; sizeId < 4; sizeId++) {
    for (let m = 0; m < 6; m += sizeId === 3 ? 3 : 1) {
      const explicit = (sizeId + m) % 2 === 0;
      w.flag(explicit);
      if (!explicit) w.ue(0);
      else {
        if (sizeId > 1) w.se(3);
        for (let i = 0; i < Math.min(64, 1 << (4 + (sizeId << 1))); i++) w.se(i % 3 - 1);
      }
    }
  }
  w.flag(true).flag(true); // amp, sao
  w.flag(true).u(4, 7).u(4, 7).ue(0).ue(1).flag(false); // pcm
  w.ue(3); // three short-term RPS
  w.ue(2).ue(1).ue(0).flag(true).ue(1).flag(true).ue(0).flag(false); // set 0: 2 negative, 1 positive
  w.flag(true).flag(false).ue(0); // set 1 predicted from set 0 (NumDeltaPocs 3 -> 4 flags)
  w.flag(true).flag(false).flag(true).flag(false).flag(false).flag(true); // used/use_delta: counts 3
  w.flag(true).flag(true).ue(1); // set 2 predicted from set 1 (3 -> 4 flags)
  w.flag(true).flag(true).flag(true).flag(true);
  w.flag(true).ue(2).u(8, 17).flag(true).u(8, 33).flag(false); // long-term refs
  w.flag(true).flag(true); // temporal mvp, strong intra smoothing
  w.flag(true); // VUI
  w.flag(true).u(8, 255).u(16, 1).u(16, 1); // extended SAR
  w.flag(false).flag(true).u(3, 5).flag(false).flag(true).u(24, 0x010101);
  w.flag(true).ue(1).ue(1);
  w.flag(false).flag(false).flag(false);
  w.flag(true).ue(0).ue(0).ue(0).ue(0);
  w.flag(true).u(32, 1001).u(32, 60000);
  return w.nal(0x42, 0x01);
}

describe("parseH265Sps on a constructed parameter set", () => {
  it("walks sub-layers, scaling lists, predicted RPS and long-term refs to the VUI timing", () => {
    const sps = parseH265Sps(buildSps());
    expect(sps).toMatchObject({
      profileIdc: 1,
      tierFlag: 1,
      levelIdc: 153,
      width: 3840,
      height: 2160,
      maxSubLayers: 3,
      temporalIdNesting: true,
    });
    expect([...sps.constraintIndicatorFlags]).toEqual([0xb0, 0, 0, 0, 0, 0]);
    expect(sps.fps).toBe(59.94);
  });

  it("keeps size and profile when the tail is cut short", () => {
    const nal = buildSps();
    const sps = parseH265Sps(nal.subarray(0, 48));
    expect(sps).toMatchObject({ width: 3840, height: 2160 });
    expect(sps.fps).toBeUndefined();
  });
});

describe("parseH265Sps errors", () => {
  it("names the field of a truncated SPS", async () => {
    const nal = await fixtureSps("ffmpeg_h265_640x360.hevc");
    let caught: unknown;
    try {
      parseH265Sps(nal.subarray(0, 10));
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(BitstreamError);
    expect((caught as BitstreamError).what).toBe("H.265 SPS");
    expect((caught as BitstreamError).message).toMatch(/^Cannot parse H\.265 SPS: general_\w+ at bit \d+ /);
  });

  it("rejects other NAL types", () => {
    expect(() => parseH265Sps(new Uint8Array([0x40, 0x01, 0x0c, 0x01]))).toThrow(/is 32, expected 33/);
    expect(() => parseH265Sps(new Uint8Array([0x42]))).toThrow(BitstreamError);
  });
});
