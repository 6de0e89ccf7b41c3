import { describe, expect, it } from "bun:test";
import { aacConfigFromCodec, createAacDepacketizer } from "./codec.ts";
import { AacDepacketizer } from "./rtp.ts";
import { LatmDepacketizer } from "./latm.ts";
import { hexToBytes } from "./fmtp.ts";
import type { Frame } from "../../core/frame.ts";

const generic = {
  name: "MPEG4-GENERIC",
  clockRate: 44100,
  channels: 2,
  fmtp: "profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1210",
};
const latm = {
  name: "MP4A-LATM",
  clockRate: 44100,
  channels: 2,
  fmtp: "profile-level-id=41;cpresent=0;config=400024203fc0",
};

describe("AAC codec helpers", () => {
  it("finds the AudioSpecificConfig in either payload format", () => {
    expect(aacConfigFromCodec(generic)).toEqual(hexToBytes("1210"));
    expect(aacConfigFromCodec(latm)).toEqual(hexToBytes("1210"));
    expect(aacConfigFromCodec({ ...latm, fmtp: "cpresent=1" })).toBeUndefined();
    expect(aacConfigFromCodec({ name: "PCMA", clockRate: 8000 })).toBeUndefined();
  });

  it("picks the depacketizer from the SDP name", () => {
    expect(createAacDepacketizer(generic, () => {})).toBeInstanceOf(AacDepacketizer);
    expect(createAacDepacketizer(latm, () => {})).toBeInstanceOf(LatmDepacketizer);
    expect(createAacDepacketizer({ name: "OPUS", clockRate: 48000 }, () => {})).toBeUndefined();
  });

  it("steps timestamps in the RTP clock, also for HE-AAC clocked at the SBR rate", () => {
    // 24 kHz core (index 6), SBR to 48 kHz signalled explicitly; the SDP clock is 48000.
    const frames: Frame[] = [];
    const d = createAacDepacketizer(
      { name: "MPEG4-GENERIC", clockRate: 48000, fmtp: "mode=AAC-hbr;config=2B118800" },
      (f) => frames.push(f),
    )!;
    // Two AUs of 2 and 1 bytes in one packet.
    const payload = new Uint8Array([0, 32, 0, 16, 0, 8, 0xa, 0xb, 0xc]);
    d.push({ payloadType: 96, sequenceNumber: 1, timestamp: 1000, ssrc: 1, marker: true, payload });
    expect(frames.map((f) => f.timestamp)).toEqual([1000, 3048]);
    expect(frames.map((f) => Array.from(f.data))).toEqual([[0xa, 0xb], [0xc]]);
  });
});
