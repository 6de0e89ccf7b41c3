import { describe, expect, it } from "bun:test";
import { annexbToAvcc } from "../annexb/annexb.ts";
import { joinAvcc } from "../annexb/avcc.ts";
import { readTestdata } from "../annexb/_test_util.ts";
import { isH265Keyframe } from "./keyframe.ts";

describe("isH265Keyframe", () => {
  it("is true for IDR, CRA and BLA pictures only", () => {
    const nal = (type: number) => new Uint8Array([type << 1, 1, 0xaf]);
    expect(isH265Keyframe(joinAvcc([nal(35), nal(19)]))).toBe(true);
    expect(isH265Keyframe(joinAvcc([nal(21)]))).toBe(true);
    expect(isH265Keyframe(joinAvcc([nal(16)]))).toBe(true);
    expect(isH265Keyframe(joinAvcc([nal(32), nal(33), nal(34), nal(1)]))).toBe(false);
    expect(isH265Keyframe(new Uint8Array([0, 0, 0, 7, 0x02]))).toBe(false);
    expect(isH265Keyframe(new Uint8Array())).toBe(false);
  });

  it("finds the keyframe of a libx265 stream", async () => {
    expect(isH265Keyframe(annexbToAvcc(await readTestdata("h265", "ffmpeg_h265_1920x1080_main.hevc")))).toBe(
      true,
    );
  });
});
