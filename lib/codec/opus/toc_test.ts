import { describe, expect, it } from "bun:test";
import { opusFrameCount, opusPacketDuration, parseOpusToc } from "./toc.ts";
import { loadCapture } from "../../../tests/_support/fixtures.ts";

describe("Opus TOC", () => {
  it("decodes every config of RFC 6716 table 2", () => {
    const expected: [string, string, number][] = [];
    for (const bw of ["nb", "mb", "wb"]) {
      for (const s of [480, 960, 1920, 2880]) expected.push(["silk", bw, s]);
    }
    for (const bw of ["swb", "fb"]) for (const s of [480, 960]) expected.push(["hybrid", bw, s]);
    for (const bw of ["nb", "wb", "swb", "fb"]) {
      for (const s of [120, 240, 480, 960]) expected.push(["celt", bw, s]);
    }
    for (let config = 0; config < 32; config++) {
      const toc = parseOpusToc((config << 3) | 0x04 | 2);
      expect([toc.mode, toc.bandwidth, toc.frameSamples]).toEqual(expected[config]);
      expect(toc.config).toBe(config);
      expect(toc.stereo).toBe(true);
      expect(toc.code).toBe(2);
    }
  });

  it("counts frames and computes durations", () => {
    expect(opusFrameCount(new Uint8Array(0))).toBe(0);
    expect(opusFrameCount(new Uint8Array([0xf8]))).toBe(1);
    expect(opusFrameCount(new Uint8Array([0xf9, 0]))).toBe(2);
    expect(opusFrameCount(new Uint8Array([0xfa, 0]))).toBe(2);
    expect(opusFrameCount(new Uint8Array([0xfb]))).toBe(0);
    expect(opusFrameCount(new Uint8Array([0xfb, 0x85]))).toBe(5);
    expect(opusPacketDuration(new Uint8Array([0xfc]))).toBe(960); // CELT FB 20 ms
    expect(opusPacketDuration(new Uint8Array([0x1b, 2]))).toBe(5760);
    expect(opusPacketDuration(new Uint8Array([0x1b, 3]))).toBe(0);
  });

  it("agrees with the RTP timestamps of ffmpeg's libopus capture", async () => {
    const packets = await loadCapture(new URL("./testdata/ffmpeg_opus.rtp", import.meta.url));
    for (let i = 1; i < packets.length; i++) {
      const step = (packets[i].timestamp - packets[i - 1].timestamp) >>> 0;
      expect(step).toBe(opusPacketDuration(packets[i - 1].payload));
    }
    expect(parseOpusToc(packets[0].payload[0]).stereo).toBe(true);
  });
});
