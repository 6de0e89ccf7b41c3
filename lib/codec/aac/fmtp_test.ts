import { describe, expect, it } from "bun:test";
import {
  aacPayloadFormat,
  buildAacFmtp,
  bytesToHex,
  hexToBytes,
  parseAacFmtp,
  parseLatmFmtp,
} from "./fmtp.ts";
import { loadFixture } from "../../../tests/_support/fixtures.ts";

function sdpFmtp(sdp: string): string {
  const line = sdp.split(/\r?\n/).find((l) => l.startsWith("a=fmtp:"))!;
  return line.slice(line.indexOf(" ") + 1);
}

describe("AAC fmtp", () => {
  it("reads ffmpeg's MPEG4-GENERIC fmtp", async () => {
    const sdp = new TextDecoder().decode(
      await loadFixture(new URL("./testdata/ffmpeg_aac_hbr.sdp", import.meta.url)),
    );
    const f = parseAacFmtp(sdpFmtp(sdp));
    expect(f).toMatchObject({
      mode: "AAC-hbr",
      sizeLength: 13,
      indexLength: 3,
      indexDeltaLength: 3,
      profileLevelId: 1,
    });
    expect(bytesToHex(f.config!)).toBe("121056e500");
  });

  it("applies AAC-hbr defaults when a camera omits the lengths", () => {
    expect(parseAacFmtp("config=1210")).toMatchObject({
      sizeLength: 13,
      indexLength: 3,
      indexDeltaLength: 3,
    });
    expect(parseAacFmtp("mode=generic;constantsize=100")).toMatchObject({
      sizeLength: 0,
      indexLength: 0,
      constantSize: 100,
    });
    expect(parseAacFmtp(undefined).config).toBeUndefined();
    expect(parseAacFmtp("config=zz").config).toBeUndefined();
  });

  it("builds the fmtp we send", () => {
    const fmtp = buildAacFmtp(hexToBytes("1190"));
    expect(fmtp).toBe(
      "profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1190",
    );
    expect(parseAacFmtp(fmtp).config).toEqual(hexToBytes("1190"));
  });

  it("detects the payload format from the SDP name", async () => {
    expect(aacPayloadFormat({ name: "MPEG4-GENERIC", clockRate: 44100 })).toBe("mpeg4-generic");
    expect(aacPayloadFormat({ name: "mp4a-latm", clockRate: 44100 })).toBe("latm");
    expect(aacPayloadFormat({ name: "OPUS", clockRate: 48000 })).toBeUndefined();
    const sdp = new TextDecoder().decode(
      await loadFixture(new URL("./testdata/ffmpeg_aac_latm.sdp", import.meta.url)),
    );
    expect(sdp).toContain("MP4A-LATM/44100/2");
    const latm = parseLatmFmtp(sdpFmtp(sdp));
    expect(latm.cpresent).toBe(false);
    expect(bytesToHex(latm.config!)).toBe("400024203fc0");
    expect(parseLatmFmtp("").cpresent).toBe(true);
  });

  it("rejects malformed hex", () => {
    expect(() => hexToBytes("123")).toThrow(SyntaxError);
    expect(() => hexToBytes("zz")).toThrow(/Cannot parse hex/);
    expect(hexToBytes("")).toEqual(new Uint8Array(0));
  });
});
