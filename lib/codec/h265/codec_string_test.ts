import { describe, expect, it } from "bun:test";
import { h265CodecString, h265CodecStringFromSps } from "./codec_string.ts";
import { fixtureNal } from "../annexb/_test_util.ts";

const fixtureSps = (name: string) => fixtureNal("h265", name, 33);

describe("h265CodecString", () => {
  it("formats libx265 streams as ISO/IEC 14496-15 Annex E says", async () => {
    expect(h265CodecString(await fixtureSps("ffmpeg_h265_640x360.hevc"))).toBe("hvc1.1.6.L63.90");
    expect(h265CodecString(await fixtureSps("ffmpeg_h265_1920x1080_main.hevc"), "hev1")).toBe(
      "hev1.1.6.L120.90",
    );
    expect(h265CodecString(await fixtureSps("ffmpeg_h265_1280x720_main10.hevc"))).toBe("hvc1.2.4.L93.90");
    expect(h265CodecString(await fixtureSps("ffmpeg_h265_642x362_main444.hevc"))).toBe("hvc1.4.10.L63.9E.8");
  });

  it("writes profile space, high tier, and drops all-zero constraint bytes", () => {
    const base = {
      profileSpace: 0,
      profileIdc: 1,
      tierFlag: 0,
      levelIdc: 93,
      width: 1,
      height: 1,
      generalProfileCompatibilityFlags: 0x60000000,
      constraintIndicatorFlags: new Uint8Array([0xb0, 0, 0, 0, 0, 0]),
      chromaFormatIdc: 1,
      bitDepthLuma: 8,
      bitDepthChroma: 8,
      maxSubLayers: 1,
      temporalIdNesting: true,
    };
    expect(h265CodecStringFromSps(base)).toBe("hvc1.1.6.L93.B0");
    expect(h265CodecStringFromSps({ ...base, profileSpace: 1, tierFlag: 1, levelIdc: 153 })).toBe(
      "hvc1.A1.6.H153.B0",
    );
    expect(h265CodecStringFromSps({ ...base, constraintIndicatorFlags: new Uint8Array(6) })).toBe(
      "hvc1.1.6.L93",
    );
    expect(h265CodecStringFromSps({ ...base, generalProfileCompatibilityFlags: 0x80000001 })).toBe(
      "hvc1.1.80000001.L93.B0",
    );
  });
});
