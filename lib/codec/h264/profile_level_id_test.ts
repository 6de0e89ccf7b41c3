import { describe, expect, it } from "bun:test";
import {
  formatH264ProfileLevelId,
  h264CodecString,
  h264ProfileLevelId,
  parseH264ProfileLevelId,
} from "./profile_level_id.ts";

const sps = new Uint8Array([0x67, 0x64, 0x00, 0x1f, 0xac]);

describe("profile-level-id", () => {
  it("reads it from an SPS", () => {
    expect(h264ProfileLevelId(sps)).toBe("64001f");
    expect(h264CodecString(sps)).toBe("avc1.64001f");
    expect(h264CodecString(new Uint8Array([0x27, 0x42, 0xe0, 0x0a]))).toBe("avc1.42e00a");
  });

  it("parses and formats fmtp values", () => {
    expect(parseH264ProfileLevelId("42e01f")).toEqual({
      profileIdc: 66,
      constraintFlags: 0xe0,
      levelIdc: 31,
    });
    expect(parseH264ProfileLevelId(" 64001F ")).toEqual({
      profileIdc: 100,
      constraintFlags: 0,
      levelIdc: 31,
    });
    expect(formatH264ProfileLevelId({ profileIdc: 100, constraintFlags: 0, levelIdc: 31 })).toBe("64001f");
  });

  it("rejects bad input with what to pass instead", () => {
    expect(() => parseH264ProfileLevelId("42e01")).toThrow(/six hex digits/);
    expect(() => h264CodecString(new Uint8Array([0x68, 1, 2, 3]))).toThrow(TypeError);
    expect(() => h264ProfileLevelId(new Uint8Array([0x67, 1]))).toThrow(/pass an H\.264 SPS/);
  });
});
