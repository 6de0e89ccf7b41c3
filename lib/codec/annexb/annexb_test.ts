import { describe, expect, it } from "bun:test";
import { annexbToAvcc, avccToAnnexb, findStartCode, splitAnnexb } from "./annexb.ts";
import { splitAvcc } from "./avcc.ts";
import { NalFramingError } from "./nal_framing_error.ts";
import { readTestdata } from "./_test_util.ts";

const u8 = (...b: number[]) => new Uint8Array(b);

describe("findStartCode", () => {
  it("finds 00 00 01 and skips other bytes", () => {
    expect(findStartCode(u8(0, 0, 1, 9), 0)).toBe(0);
    expect(findStartCode(u8(0, 0, 0, 1, 9), 0)).toBe(1);
    expect(findStartCode(u8(5, 6, 7, 0, 0, 1), 0)).toBe(3);
    expect(findStartCode(u8(0, 0, 2, 0, 0, 3, 1), 0)).toBe(-1);
    expect(findStartCode(u8(0, 0, 1, 9, 0, 0, 1), 1)).toBe(4);
    expect(findStartCode(u8(0, 0), 0)).toBe(-1);
  });
});

describe("splitAnnexb", () => {
  it("splits 3- and 4-byte start codes, trims trailing zeros, keeps emulation prevention", () => {
    const data = u8(0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 0, 0, 3, 1, 0, 0, 0, 0, 1, 0x65, 0xaa);
    const nals = [...splitAnnexb(data)].map((n) => [...n]);
    expect(nals).toEqual([[0x67, 1, 2], [0x68, 0, 0, 3, 1], [0x65, 0xaa]]);
  });

  it("yields a bare NAL unit without start code, and nothing for zeros", () => {
    expect([...splitAnnexb(u8(0x65, 1, 2))].map((n) => [...n])).toEqual([[0x65, 1, 2]]);
    expect([...splitAnnexb(u8(0, 0, 0, 0))]).toEqual([]);
    expect([...splitAnnexb(u8())]).toEqual([]);
  });

  it("returns views, not copies", () => {
    const data = u8(0, 0, 1, 0x65, 7);
    const [nal] = splitAnnexb(data);
    expect(nal.buffer).toBe(data.buffer);
    expect(nal.byteOffset).toBe(3);
  });
});

describe("annexbToAvcc / avccToAnnexb", () => {
  it("converts both start code sizes", () => {
    const avcc = annexbToAvcc(u8(0, 0, 1, 0x67, 1, 0, 0, 0, 1, 0x65, 0, 0, 3, 2));
    expect([...avcc]).toEqual([0, 0, 0, 2, 0x67, 1, 0, 0, 0, 5, 0x65, 0, 0, 3, 2]);
    expect([...avccToAnnexb(avcc)]).toEqual([0, 0, 0, 1, 0x67, 1, 0, 0, 0, 1, 0x65, 0, 0, 3, 2]);
  });

  it("handles many NAL units (scratch growth)", () => {
    const parts: number[] = [];
    for (let i = 0; i < 200; i++) parts.push(0, 0, 1, 0x41, i & 0xff, 0x80);
    const avcc = annexbToAvcc(new Uint8Array(parts));
    expect([...splitAvcc(avcc)].length).toBe(200);
    expect(avcc.length).toBe(200 * 7);
  });

  it("does not modify its input", () => {
    const avcc = u8(0, 0, 0, 1, 0x65);
    avccToAnnexb(avcc);
    expect([...avcc]).toEqual([0, 0, 0, 1, 0x65]);
  });

  it("throws NalFramingError with the offset on bad AVCC", () => {
    let caught: unknown;
    try {
      avccToAnnexb(u8(0, 0, 0, 1, 0x65, 0, 0, 0, 9, 1));
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(NalFramingError);
    expect((caught as NalFramingError).offset).toBe(5);
    expect((caught as NalFramingError).message).toContain("byte 5");
    expect(() => avccToAnnexb(u8(0, 0, 0))).toThrow(NalFramingError);
  });

  it("round-trips a real libx264 stream", async () => {
    const es = await readTestdata("h264", "ffmpeg_h264_640x360.h264");
    const avcc = annexbToAvcc(es);
    const nals = [...splitAvcc(avcc)];
    expect(nals.length).toBeGreaterThan(25);
    expect(nals.map((n) => n[0] & 0x1f).slice(0, 4)).toEqual([7, 8, 6, 5]);
    const back = avccToAnnexb(avcc);
    expect([...splitAnnexb(back)].length).toBe(nals.length);
    expect(annexbToAvcc(back)).toEqual(avcc);
    // x264 writes 4-byte start codes for parameter sets and the first slice, 3-byte ones after.
    expect(back.length).toBeGreaterThanOrEqual(es.length);
  });
});
