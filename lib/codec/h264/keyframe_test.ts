import { describe, expect, it } from "bun:test";
import { annexbToAvcc } from "../annexb/annexb.ts";
import { joinAvcc } from "../annexb/avcc.ts";
import { readTestdata } from "../annexb/_test_util.ts";
import { isH264Keyframe } from "./keyframe.ts";

describe("isH264Keyframe", () => {
  it("is true when an IDR slice is present", () => {
    expect(isH264Keyframe(joinAvcc([new Uint8Array([0x09, 0xf0]), new Uint8Array([0x65, 0x88])]))).toBe(true);
    expect(isH264Keyframe(joinAvcc([new Uint8Array([0x67, 1]), new Uint8Array([0x41, 0x9a])]))).toBe(false);
  });

  it("survives empty, zero-length and truncated data", () => {
    expect(isH264Keyframe(new Uint8Array())).toBe(false);
    expect(isH264Keyframe(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 1, 0x65]))).toBe(true);
    expect(isH264Keyframe(new Uint8Array([0, 0, 0, 9, 0x41]))).toBe(false);
  });

  it("finds the keyframe of a libx264 stream", async () => {
    const avcc = annexbToAvcc(await readTestdata("h264", "ffmpeg_h264_1920x1080_high.h264"));
    expect(isH264Keyframe(avcc)).toBe(true);
  });
});
