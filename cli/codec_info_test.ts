import { describe, expect, it } from "bun:test";
import { describeCodec, h264LevelName, h264ProfileName, h265LevelName } from "./codec_info.ts";

describe("codec_info", () => {
  it("names H.264 profiles and levels (Annex A)", () => {
    expect(h264ProfileName(66, 0xe0)).toBe("Constrained Baseline");
    expect(h264ProfileName(66, 0x80)).toBe("Baseline");
    expect(h264ProfileName(77, 0x40)).toBe("Main");
    expect(h264ProfileName(100, 0)).toBe("High");
    expect(h264ProfileName(100, 0x0c)).toBe("Constrained High");
    expect(h264ProfileName(110, 0x10)).toBe("High 10 Intra");
    expect(h264LevelName(31, 0, 100)).toBe("3.1");
    expect(h264LevelName(40, 0, 100)).toBe("4.0");
    expect(h264LevelName(11, 0x10, 66)).toBe("1b");
    expect(h264LevelName(11, 0x10, 100)).toBe("1.1");
    expect(h265LevelName(93)).toBe("3.1");
    expect(h265LevelName(120)).toBe("4");
  });

  it("reads H.264 fmtp profile-level-id and packetization-mode", () => {
    const c = describeCodec({
      name: "H264",
      clockRate: 90000,
      fmtp: "packetization-mode=1;profile-level-id=64001F",
    });
    expect(c).toMatchObject({
      profile: "High",
      level: "3.1",
      profile_level_id: "64001f",
      packetization_mode: 1,
      codec_string: "avc1.64001f",
    });
    expect(describeCodec({ name: "H264", clockRate: 90000, fmtp: "profile-level-id=zz" }).profile)
      .toBeUndefined();
  });

  it("reads H.265 fmtp profile-id, level-id and tier-flag", () => {
    const c = describeCodec({
      name: "H265",
      clockRate: 90000,
      fmtp: "profile-id=2;level-id=123;tier-flag=0",
    });
    expect(c).toMatchObject({ profile: "Main 10", level: "4.1", tier: "Main" });
  });

  it("reads the AAC AudioSpecificConfig from the fmtp", () => {
    const lc = describeCodec({ name: "MPEG4-GENERIC", clockRate: 48000, fmtp: "mode=AAC-hbr;config=1188" });
    expect(lc).toMatchObject({
      profile: "AAC-LC",
      sample_rate: 48000,
      channels: 1,
      samples_per_frame: 1024,
      codec_string: "mp4a.40.2",
    });
    const stereo = describeCodec({ name: "MPEG4-GENERIC", clockRate: 44100, fmtp: "config=1210" });
    expect(stereo).toMatchObject({ sample_rate: 44100, channels: 2 });
    expect(describeCodec({ name: "MPEG4-GENERIC", clockRate: 8000 }).profile).toBeUndefined();
  });

  it("keeps plain codecs as they are", () => {
    expect(describeCodec({ name: "PCMA", clockRate: 8000, payloadType: 8 })).toEqual({
      name: "PCMA",
      clock_rate: 8000,
      payload_type: 8,
    });
    expect(describeCodec({ name: "OPUS", clockRate: 48000, channels: 2, fmtp: "sprop-stereo=1" }).channels)
      .toBe(2);
  });
});
