import { describe, expect, it } from "bun:test";
import { H264NalType, h264NalType } from "./nal.ts";

describe("H264NalType", () => {
  it("has the H.264 and RFC 6184 numbers", () => {
    expect([H264NalType.IDR, H264NalType.SPS, H264NalType.PPS, H264NalType.AUD]).toEqual([5, 7, 8, 9]);
    expect([H264NalType.STAP_A, H264NalType.FU_A]).toEqual([24, 28]);
  });

  it("reads the type from the header byte, ignoring F and NRI", () => {
    expect(h264NalType(new Uint8Array([0x67]))).toBe(7);
    expect(h264NalType(new Uint8Array([0x65]))).toBe(5);
    expect(h264NalType(new Uint8Array([0x7c]))).toBe(28);
    expect(h264NalType(new Uint8Array([0x41]))).toBe(1);
  });
});
