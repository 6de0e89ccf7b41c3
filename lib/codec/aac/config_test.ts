import { describe, expect, it } from "bun:test";
import {
  aacCodecString,
  AacConfigError,
  buildAudioSpecificConfig,
  copyBits,
  parseAudioSpecificConfig,
} from "./config.ts";
import { BitWriter } from "./_bits.ts";
import { hexToBytes } from "./fmtp.ts";

describe("AudioSpecificConfig", () => {
  it("parses common configs, including ffmpeg's with the SBR sync extension", () => {
    expect(parseAudioSpecificConfig(hexToBytes("1210"))).toEqual({
      objectType: 2,
      sampleRate: 44100,
      sampleRateIndex: 4,
      channels: 2,
      channelConfiguration: 2,
      frameLength: 1024,
    });
    // From the fixture SDPs: ffmpeg appends the backward-compatible "no SBR" signalling (0x2B7).
    const asc = parseAudioSpecificConfig(hexToBytes("119056E500"));
    expect([asc.objectType, asc.sampleRate, asc.channels, asc.frameLength]).toEqual([2, 48000, 2, 1024]);
    expect(parseAudioSpecificConfig(hexToBytes("1588")).sampleRate).toBe(8000);
    expect(parseAudioSpecificConfig(hexToBytes("1408")).sampleRate).toBe(16000);
    expect(parseAudioSpecificConfig(hexToBytes("1214")).frameLength).toBe(960); // frameLengthFlag
  });

  it("parses explicit HE-AAC (SBR) signalling and an explicit rate", () => {
    const w = new BitWriter();
    w.write(5, 5); // SBR
    w.write(6, 4); // 24000 core
    w.write(2, 4); // stereo
    w.write(3, 4); // 48000 extension
    w.write(2, 5); // AAC-LC core
    w.write(0, 3); // GASpecificConfig
    const he = parseAudioSpecificConfig(w.bytes());
    expect(he).toMatchObject({
      objectType: 2,
      sampleRate: 24000,
      extensionObjectType: 5,
      extensionSampleRate: 48000,
    });
    expect(aacCodecString(he)).toBe("mp4a.40.5");

    const odd = buildAudioSpecificConfig({ sampleRate: 12345, channels: 1 });
    expect(parseAudioSpecificConfig(odd)).toMatchObject({
      sampleRate: 12345,
      sampleRateIndex: 15,
      channels: 1,
    });
  });

  it("builds configs that parse back", () => {
    for (const sampleRate of [8000, 16000, 22050, 44100, 48000, 96000]) {
      for (const channels of [1, 2, 6, 8]) {
        const asc = parseAudioSpecificConfig(buildAudioSpecificConfig({ sampleRate, channels }));
        expect([asc.objectType, asc.sampleRate, asc.channels, asc.frameLength]).toEqual([
          2,
          sampleRate,
          channels,
          1024,
        ]);
      }
    }
    expect(buildAudioSpecificConfig({ sampleRate: 44100, channels: 2 })).toEqual(hexToBytes("1210"));
    expect(buildAudioSpecificConfig({ sampleRate: 48000, channels: 2 })).toEqual(hexToBytes("1190"));
    expect(
      parseAudioSpecificConfig(
        buildAudioSpecificConfig({ objectType: 23, sampleRate: 48000, channels: 1, frameLength: 480 }),
      ),
    )
      .toMatchObject({ objectType: 23, frameLength: 480 });
    expect(() => buildAudioSpecificConfig({ sampleRate: 48000, channels: 9 })).toThrow(RangeError);
  });

  it("gives codec strings", () => {
    expect(aacCodecString(hexToBytes("1210"))).toBe("mp4a.40.2");
  });

  it("reports truncated and reserved configs", () => {
    expect(() => parseAudioSpecificConfig(new Uint8Array([0x12]))).toThrow(AacConfigError);
    expect(() => parseAudioSpecificConfig(hexToBytes("16" + "90"))).toThrow(
      /reserved samplingFrequencyIndex 13/,
    );
    expect(() => parseAudioSpecificConfig(hexToBytes("1200"))).toThrow(/program_config_element/);
  });

  it("copies unaligned bits", () => {
    // 0x12 0x10 shifted right by 3 bits.
    const shifted = new Uint8Array([0x02, 0x42, 0x00]);
    expect(copyBits(shifted, 3, 16)).toEqual(hexToBytes("1210"));
    expect(copyBits(new Uint8Array([0xff]), 2, 3)).toEqual(new Uint8Array([0xe0]));
  });
});
