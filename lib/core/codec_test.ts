import { describe, expect, it } from "bun:test";
import { codecMatch, codecToString, fmtpParam, parseCodecString } from "./codec.ts";

describe("codec", () => {
  it("parses go2rtc short codec strings", () => {
    expect(parseCodecString("h264")).toEqual({ name: "H264", clockRate: 90000 });
    expect(parseCodecString("pcma/16000/1")).toEqual({ name: "PCMA", clockRate: 16000, channels: 1 });
    expect(parseCodecString("aac").name).toBe("MPEG4-GENERIC");
    expect(parseCodecString("copy").name).toBe("ANY");
    expect(parseCodecString("all").name).toBe("ALL");
  });

  it("matches like go2rtc: names, then clock rate and channels unless unset", () => {
    const pcma8k = { name: "PCMA", clockRate: 8000, channels: 1 };
    expect(codecMatch(pcma8k, { name: "PCMA", clockRate: 0 })).toBe(true);
    expect(codecMatch(pcma8k, { name: "PCMA", clockRate: 16000 })).toBe(false);
    expect(codecMatch(pcma8k, { name: "PCMU", clockRate: 8000 })).toBe(false);
    expect(codecMatch(pcma8k, { name: "ANY", clockRate: 0 })).toBe(true);
    expect(codecMatch({ name: "PCMA", clockRate: 8000, channels: 2 }, { name: "PCMA", clockRate: 8000, channels: 1 }))
      .toBe(false);
  });

  it("Opus matches whatever its channels: one RTP format for mono and stereo (RFC 7587)", () => {
    // A mono Opus source (ffmpeg's #audio=opus of a mono camera) fits a browser's opus/48000/2.
    const mono = { name: "OPUS", clockRate: 48000, channels: 1 };
    expect(codecMatch(mono, { name: "OPUS", clockRate: 48000, channels: 2 })).toBe(true);
    expect(codecMatch({ name: "OPUS", clockRate: 48000, channels: 2 }, mono)).toBe(true);
    expect(codecMatch(mono, { name: "OPUS", clockRate: 16000, channels: 1 })).toBe(false);
  });

  it("formats and reads fmtp", () => {
    expect(codecToString({ name: "OPUS", clockRate: 48000, channels: 2 })).toBe("OPUS/48000/2");
    expect(fmtpParam("packetization-mode=1; profile-level-id=42E01F", "Profile-Level-Id")).toBe("42E01F");
    expect(fmtpParam(undefined, "x")).toBeUndefined();
  });
});
