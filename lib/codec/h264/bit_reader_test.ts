import { describe, expect, it } from "bun:test";
import { BitWriter } from "./_bit_writer.ts";
import { BitReader, BitstreamError } from "./bit_reader.ts";

describe("BitReader", () => {
  it("reads fixed-width fields MSB first", () => {
    const r = new BitReader(new Uint8Array([0b1010_0000, 0xff, 0x12, 0x34, 0x56, 0x78]), "test");
    expect(r.u(1, "a")).toBe(1);
    expect(r.flag("b")).toBe(false);
    expect(r.u(2, "c")).toBe(2);
    r.skip(4, "d");
    expect(r.u(8, "e")).toBe(0xff);
    expect(r.u(32, "f")).toBe(0x12345678);
    expect(r.bitsLeft).toBe(0);
  });

  it("reads Exp-Golomb codes (H.264 Table 9-2)", () => {
    const values = [0, 1, 2, 3, 7, 8, 255, 65535, 2 ** 31];
    const w = new BitWriter();
    for (const v of values) w.ue(v);
    for (const v of [0, 1, -1, 2, -2, 1000, -1000]) w.se(v);
    const r = new BitReader(w.rbsp(), "test");
    for (const v of values) expect(r.ue("x")).toBe(v);
    for (const v of [0, 1, -1, 2, -2, 1000, -1000]) expect(r.se("x")).toBe(v);
    // "1" = 0, "010" = 1, "011" = 2, "00100" = 3
    const k = new BitReader(new Uint8Array([0b1010_0110, 0b0100_0000]), "test");
    expect([k.ue("a"), k.ue("b"), k.ue("c"), k.ue("d")]).toEqual([0, 1, 2, 3]);
  });

  it("throws BitstreamError naming the field and bit offset when data runs out", () => {
    const r = new BitReader(new Uint8Array([0xff]), "H.264 SPS");
    r.u(4, "a");
    let caught: unknown;
    try {
      r.u(8, "level_idc");
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(BitstreamError);
    const e = caught as BitstreamError;
    expect([e.name, e.what, e.field, e.bitOffset]).toEqual(["BitstreamError", "H.264 SPS", "level_idc", 4]);
    expect(e.message).toBe(
      "Cannot parse H.264 SPS: level_idc at bit 4 needs 8 bits, 4 left: the NAL unit is truncated",
    );
    expect(() => new BitReader(new Uint8Array([0, 0]), "t").ue("x")).toThrow(/x at bit 0 runs past the end/);
    expect(() => new BitReader(new Uint8Array(5), "t").ue("x")).toThrow(/more than 31 leading zero bits/);
    expect(() => new BitReader(new Uint8Array([0x01]), "t").skip(9, "y")).toThrow(BitstreamError);
  });
});
