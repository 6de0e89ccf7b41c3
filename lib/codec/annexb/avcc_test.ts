import { describe, expect, it } from "bun:test";
import { avccNalEnd, joinAvcc, splitAvcc, writeAvccLength } from "./avcc.ts";
import { NalFramingError } from "./nal_framing_error.ts";

const u8 = (...b: number[]) => new Uint8Array(b);

describe("splitAvcc", () => {
  it("yields NAL units as views", () => {
    const data = u8(0, 0, 0, 2, 0x67, 1, 0, 0, 0, 1, 0x68);
    const nals = [...splitAvcc(data)];
    expect(nals.map((n) => [...n])).toEqual([[0x67, 1], [0x68]]);
    expect(nals[1].buffer).toBe(data.buffer);
  });

  it("yields nothing for empty data and allows zero-length NAL units", () => {
    expect([...splitAvcc(u8())]).toEqual([]);
    expect([...splitAvcc(u8(0, 0, 0, 0))].map((n) => n.length)).toEqual([0]);
  });

  it("throws NalFramingError when a length runs past the end", () => {
    expect(() => [...splitAvcc(u8(0, 0, 0, 5, 1))]).toThrow(NalFramingError);
    expect(() => [...splitAvcc(u8(0, 0, 0, 1, 1, 0))]).toThrow(/byte 5/);
  });
});

describe("avccNalEnd / joinAvcc / writeAvccLength", () => {
  it("walks by offset", () => {
    const data = joinAvcc([u8(0x67, 1, 2), u8(0x68)]);
    expect([...data]).toEqual([0, 0, 0, 3, 0x67, 1, 2, 0, 0, 0, 1, 0x68]);
    expect(avccNalEnd(data, 0)).toBe(7);
    expect(avccNalEnd(data, 7)).toBe(12);
    expect(() => avccNalEnd(data, 10)).toThrow(NalFramingError);
  });

  it("writes big-endian lengths", () => {
    const out = new Uint8Array(6);
    writeAvccLength(out, 1, 0x01020304);
    expect([...out]).toEqual([0, 1, 2, 3, 4, 0]);
  });
});
