import { describe, expect, it } from "bun:test";
import { readTestdataText, sdpFmtp } from "../annexb/_test_util.ts";
import { buildH265Fmtp, h265MaxDonDiff, h265ParameterSetsFromFmtp } from "./fmtp.ts";
import { parseH265Sps } from "./sps.ts";

describe("H.265 fmtp", () => {
  it("reads sprop-vps/sps/pps as ffmpeg writes them", async () => {
    const fmtp = sdpFmtp(await readTestdataText("h265", "ffmpeg_h265_640x360.sdp"));
    const { vps, sps, pps } = h265ParameterSetsFromFmtp(fmtp);
    expect([vps![0] >> 1, sps![0] >> 1, pps![0] >> 1]).toEqual([32, 33, 34]);
    expect(parseH265Sps(sps!)).toMatchObject({ width: 640, height: 360 });
    expect(h265MaxDonDiff(fmtp)).toBe(0);
  });

  it("round-trips through buildH265Fmtp", () => {
    const sets = {
      vps: new Uint8Array([0x40, 1, 2]),
      sps: new Uint8Array([0x42, 1, 3]),
      pps: new Uint8Array([0x44, 1, 4]),
    };
    const fmtp = buildH265Fmtp(sets);
    expect(fmtp).toBe("sprop-vps=QAEC;sprop-sps=QgED;sprop-pps=RAEE");
    expect(h265ParameterSetsFromFmtp(fmtp)).toEqual(sets);
    expect(buildH265Fmtp({ sps: sets.sps })).toBe("sprop-sps=QgED");
    expect(h265ParameterSetsFromFmtp(undefined)).toEqual({});
  });

  it("reads sprop-max-don-diff", () => {
    expect(h265MaxDonDiff("sprop-max-don-diff=2;sprop-vps=QAEC")).toBe(2);
    expect(h265MaxDonDiff("sprop-max-don-diff=x")).toBe(0);
  });
});
