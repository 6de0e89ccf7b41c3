import { describe, expect, it } from "bun:test";
import { buildOpusDops, buildOpusHead, OpusHeadError, parseOpusHead } from "./head.ts";
import { hasTool, run } from "../../../tests/_support/process.ts";

const haveFfmpeg = await hasTool("ffmpeg");

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

describe("OpusHead / dOps", () => {
  it("builds the RFC 7845 layout", () => {
    const head = buildOpusHead({ channels: 2, preSkip: 312, inputSampleRate: 44100, outputGain: -256 });
    expect(Array.from(head)).toEqual([
      0x4f,
      0x70,
      0x75,
      0x73,
      0x48,
      0x65,
      0x61,
      0x64,
      1,
      2,
      0x38,
      0x01,
      0x44,
      0xac,
      0,
      0,
      0x00,
      0xff,
      0,
    ]);
    expect(parseOpusHead(head)).toEqual({
      channels: 2,
      preSkip: 312,
      inputSampleRate: 44100,
      outputGain: -256,
      mappingFamily: 0,
    });
  });

  it("builds the dOps body big-endian with version 0", () => {
    expect(Array.from(buildOpusDops({ channels: 1 }))).toEqual([0, 1, 0x01, 0x38, 0, 0, 0xbb, 0x80, 0, 0, 0]);
  });

  it("writes a channel mapping table for surround", () => {
    const mapping = { streamCount: 4, coupledCount: 2, mapping: [0, 4, 1, 2, 3, 5] };
    const head = buildOpusHead({ channels: 6, channelMapping: mapping });
    expect(head.length).toBe(19 + 2 + 6);
    expect(parseOpusHead(head)).toMatchObject({ channels: 6, mappingFamily: 1, channelMapping: mapping });
    expect(buildOpusDops({ channels: 6, channelMapping: mapping }).length).toBe(11 + 2 + 6);
    expect(() => buildOpusHead({ channels: 6 })).toThrow(OpusHeadError);
    expect(() => buildOpusHead({ channels: 3, mappingFamily: 0 })).toThrow(/family 0/);
  });

  it("rejects what is not an OpusHead", () => {
    expect(() => parseOpusHead(new Uint8Array(19))).toThrow(/magic/);
    expect(() => parseOpusHead(new Uint8Array(5))).toThrow(OpusHeadError);
  });

  it.skipIf(!haveFfmpeg)("matches the OpusHead that ffmpeg writes to Ogg", async () => {
    const res = await run("ffmpeg", [
      "-v",
      "error",
      "-f",
      "lavfi",
      "-i",
      "sine=frequency=440:sample_rate=48000",
      "-t",
      "0.1",
      "-ac",
      "2",
      "-c:a",
      "libopus",
      "-f",
      "ogg",
      "-",
    ], 8_000);
    expect(res.code).toBe(0);
    const at = indexOf(res.stdout, new TextEncoder().encode("OpusHead"));
    expect(at).toBeGreaterThan(0);
    const theirs = res.stdout.subarray(at, at + 19);
    const parsed = parseOpusHead(theirs);
    expect(parsed.channels).toBe(2);
    expect(buildOpusHead(parsed)).toEqual(theirs);
  }, 15000);
});
