import { describe, expect, it } from "bun:test";
import { H265NalType, h265NalType, isH265Irap } from "./nal.ts";

describe("H265NalType", () => {
  it("reads the 6-bit type from the first header byte", () => {
    expect(h265NalType(new Uint8Array([0x40, 0x01]))).toBe(H265NalType.VPS);
    expect(h265NalType(new Uint8Array([0x42, 0x01]))).toBe(H265NalType.SPS);
    expect(h265NalType(new Uint8Array([0x44, 0x01]))).toBe(H265NalType.PPS);
    expect(h265NalType(new Uint8Array([0x26, 0x01]))).toBe(H265NalType.IDR_W_RADL);
    expect(h265NalType(new Uint8Array([0x62, 0x01]))).toBe(H265NalType.FU);
    expect(h265NalType(new Uint8Array([0xe0, 0x01]))).toBe(H265NalType.AP); // F bit set
  });

  it("treats types 16..21 as IRAP keyframes", () => {
    expect([15, 16, 19, 20, 21, 22, 1].map(isH265Irap)).toEqual([
      false,
      true,
      true,
      true,
      true,
      false,
      false,
    ]);
  });
});
