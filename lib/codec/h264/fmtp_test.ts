import { describe, expect, it } from "bun:test";
import { readTestdataText, sdpFmtp } from "../annexb/_test_util.ts";
import {
  buildH264Fmtp,
  buildSpropParameterSets,
  h264ParameterSetsFromFmtp,
  parseSpropParameterSets,
} from "./fmtp.ts";
import { parseH264Sps } from "./sps.ts";

describe("sprop-parameter-sets", () => {
  it("parses the fmtp ffmpeg wrote and finds SPS and PPS", async () => {
    const fmtp = sdpFmtp(await readTestdataText("h264", "ffmpeg_h264_640x360.sdp"));
    const { sps, pps } = h264ParameterSetsFromFmtp(fmtp);
    expect(sps?.[0]).toBe(0x67);
    expect(pps?.[0]).toBe(0x68);
    expect(parseH264Sps(sps!)).toMatchObject({ width: 640, height: 360, profileIdc: 100 });
  });

  it("round-trips through build and parse", () => {
    const nals = [new Uint8Array([0x67, 0x42, 0xc0, 0x1e, 0xd9]), new Uint8Array([0x68, 0xcb, 0x8c, 0xb2])];
    const value = buildSpropParameterSets(nals);
    expect(value).toBe("Z0LAHtk=,aMuMsg==");
    expect(parseSpropParameterSets(value)).toEqual(nals);
    expect(parseSpropParameterSets("Z0LAHtk=,,")).toEqual([nals[0]]);
  });

  it("builds an fmtp line with profile-level-id", () => {
    const sps = new Uint8Array([0x67, 0x64, 0x00, 0x1f, 0xac]);
    const pps = new Uint8Array([0x68, 0xee]);
    const fmtp = buildH264Fmtp({ sps, pps });
    expect(fmtp).toBe("packetization-mode=1;profile-level-id=64001f;sprop-parameter-sets=Z2QAH6w=,aO4=");
    expect(h264ParameterSetsFromFmtp(fmtp)).toEqual({ sps, pps });
    expect(buildH264Fmtp()).toBe("packetization-mode=1");
  });

  it("returns nothing without sprop-parameter-sets and throws on bad base64", () => {
    expect(h264ParameterSetsFromFmtp(undefined)).toEqual({});
    expect(h264ParameterSetsFromFmtp("packetization-mode=1")).toEqual({});
    expect(() => h264ParameterSetsFromFmtp("sprop-parameter-sets=!!!")).toThrow(SyntaxError);
  });
});
