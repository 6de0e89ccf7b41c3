import { describe, expect, test } from "bun:test";
import { WebRtcCodecError } from "./errors.ts";

describe("WebRtcCodecError", () => {
  const browser = ["video:VP8/90000", "video:H264/90000", "audio:OPUS/48000/2", "audio:PCMU/8000", "audio:PCMA/8000"];

  test("an AAC-only source: names both sides and gives the ffmpeg:cam#audio=opus recipe", () => {
    const e = new WebRtcCodecError("cam", ["audio:MPEG4-GENERIC/48000"], browser);
    expect(e.name).toBe("WebRtcCodecError");
    expect(e.message).toContain("The source has audio:MPEG4-GENERIC/48000");
    expect(e.message).toContain("the peer offered video:VP8/90000, video:H264/90000, audio:OPUS/48000/2");
    expect(e.message).toContain('"ffmpeg:cam#audio=opus"');
  });

  test("a video codec the peer lacks gets #video=h264; a source with nothing usable gets both", () => {
    expect(new WebRtcCodecError("cam", ["video:JPEG/90000"], browser).message).toContain('"ffmpeg:cam#video=h264"');
    expect(new WebRtcCodecError("cam", ["video:H265/90000", "audio:MPEG4-GENERIC/16000"], browser).message)
      .toContain('"ffmpeg:cam#video=h264#audio=opus"');
    expect(new WebRtcCodecError("cam", [], browser).message).toContain('"ffmpeg:cam#video=h264#audio=opus"');
  });
});
