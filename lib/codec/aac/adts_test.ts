import { describe, expect, it } from "bun:test";
import {
  ADTS_HEADER_SIZE,
  type AdtsFrame,
  AdtsParseError,
  AdtsSplitter,
  adtsToAudioSpecificConfig,
  buildAdtsFrame,
  isAdts,
  parseAdtsHeader,
  writeAdtsHeader,
} from "./adts.ts";
import { parseAudioSpecificConfig } from "./config.ts";
import { hexToBytes } from "./fmtp.ts";
import { ffprobeJson } from "../../../tests/_support/ffmpeg.ts";
import { hasTool, run } from "../../../tests/_support/process.ts";

const haveFfmpeg = (await hasTool("ffmpeg")) && (await hasTool("ffprobe"));

describe("ADTS", () => {
  it("writes and parses a header", () => {
    const asc = parseAudioSpecificConfig(hexToBytes("1210"));
    const out = new Uint8Array(7);
    expect(writeAdtsHeader(out, 0, asc, 100)).toBe(7);
    expect(isAdts(out)).toBe(true);
    expect(parseAdtsHeader(out)).toEqual({
      objectType: 2,
      sampleRateIndex: 4,
      sampleRate: 44100,
      channelConfiguration: 2,
      frameLength: 107,
      headerLength: 7,
      rawDataBlocks: 1,
    });
    expect(adtsToAudioSpecificConfig(parseAdtsHeader(out))).toEqual(hexToBytes("1210"));
  });

  it("reports what is wrong with a bad header", () => {
    expect(() => parseAdtsHeader(new Uint8Array([0xff, 0xf1, 0x50]))).toThrow(AdtsParseError);
    expect(() => parseAdtsHeader(new Uint8Array(7))).toThrow(/syncword/);
    const bad = buildAdtsFrame(parseAudioSpecificConfig(hexToBytes("1210")), new Uint8Array(3));
    bad[2] = (bad[2] & ~0x3c) | (13 << 2);
    expect(() => parseAdtsHeader(bad)).toThrow(/reserved samplingFrequencyIndex 13/);
  });

  it("splits a stream cut at every possible boundary and skips garbage", () => {
    const asc = parseAudioSpecificConfig(hexToBytes("1190"));
    const aus = [new Uint8Array([1, 2, 3]), new Uint8Array(300).fill(9), new Uint8Array([4])];
    const frames = aus.map((au) => buildAdtsFrame(asc, au));
    const garbage = new Uint8Array([0xff, 0x00, 0x12, 0xff]);
    const stream = new Uint8Array([...frames[0], ...garbage, ...frames[1], ...frames[2]]);
    for (let cut = 1; cut < stream.length; cut += 7) {
      const got: AdtsFrame[] = [];
      const split = new AdtsSplitter((f) => got.push(f));
      split.push(stream.subarray(0, cut));
      split.push(stream.subarray(cut));
      expect(got.map((f) => f.data)).toEqual(aus);
      expect(split.errors).toBe(1);
      expect(split.buffered).toBe(0);
    }
  });

  it.skipIf(!haveFfmpeg)("splits ffmpeg's ADTS output into the frames ffprobe counts", async () => {
    const res = await run("ffmpeg", [
      "-v",
      "error",
      "-f",
      "lavfi",
      "-i",
      "sine=frequency=1000:sample_rate=22050",
      "-t",
      "0.5",
      "-c:a",
      "aac",
      "-ac",
      "1",
      "-f",
      "adts",
      "-",
    ], 8_000);
    expect(res.code).toBe(0);
    const got: AdtsFrame[] = [];
    const split = new AdtsSplitter((f) => got.push(f));
    for (let p = 0; p < res.stdout.length; p += 1000) split.push(res.stdout.subarray(p, p + 1000));
    expect(split.errors).toBe(0);
    const { json } = await ffprobeJson(res.stdout, [
      "-count_frames",
      "-show_entries",
      "stream=nb_read_frames,sample_rate",
    ]);
    expect(got.length).toBe(Number(json.streams[0].nb_read_frames));
    expect(got[0].header.sampleRate).toBe(22050);
    expect(got[0].bytes.length).toBe(got[0].data.length + ADTS_HEADER_SIZE);
  }, 15000);
});
