import { describe, expect, it } from "bun:test";
import { joinAvcc, splitAvcc } from "../../codec/annexb/avcc.ts";
import { loadDemoClip } from "../demo/clip.ts";
import { frameToAnnexb } from "./annexb_frame.ts";

const clip = loadDemoClip();
const codec = { name: "H264", clockRate: 90000, fmtp: clip.video.fmtp };
const keyIndex = clip.video.keyframes.indexOf(true);
const key = clip.video.frames[keyIndex];

function nalTypes(annexb: Uint8Array): number[] {
  const types: number[] = [];
  for (let i = 0; i + 4 < annexb.length; i++) {
    if (annexb[i] === 0 && annexb[i + 1] === 0 && annexb[i + 2] === 0 && annexb[i + 3] === 1) types.push(annexb[i + 4] & 0x1f);
  }
  return types;
}

describe("frameToAnnexb", () => {
  it("converts AVCC to Annex-B and keeps in-band parameter sets as they are", () => {
    const out = frameToAnnexb(codec, { timestamp: 0, keyframe: true, data: key });
    expect(out.length).toBe(key.length);
    expect(nalTypes(out).slice(0, 2)).toEqual([7, 8]);
  });

  it("puts the fmtp's SPS/PPS before a keyframe that lacks them", () => {
    const bare = joinAvcc([...splitAvcc(key)].filter((n) => (n[0] & 0x1f) !== 7 && (n[0] & 0x1f) !== 8));
    const out = frameToAnnexb(codec, { timestamp: 0, keyframe: true, data: bare });
    const types = nalTypes(out);
    expect(types[0]).toBe(7);
    expect(types[1]).toBe(8);
    expect(types).toContain(5);
  });

  it("leaves non-keyframes alone", () => {
    const p = clip.video.frames[keyIndex + 1];
    expect(frameToAnnexb(codec, { timestamp: 0, keyframe: false, data: p }).length).toBe(p.length);
  });
});
