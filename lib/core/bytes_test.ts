import { describe, expect, it } from "bun:test";
import { bytesToHex, concatBytes, randomHex, writeU32BE } from "./bytes.ts";

describe("bytes", () => {
  it("concatBytes joins parts in order, with or without the total", () => {
    const parts = [new Uint8Array([1, 2]), new Uint8Array(0), new Uint8Array([3])];
    expect([...concatBytes(parts)]).toEqual([1, 2, 3]);
    expect([...concatBytes(parts, 3)]).toEqual([1, 2, 3]);
  });

  it("writeU32BE writes network order", () => {
    const b = new Uint8Array(6);
    writeU32BE(b, 1, 0xfe010203);
    expect([...b]).toEqual([0, 0xfe, 1, 2, 3, 0]);
  });

  it("bytesToHex gives two lower-case digits per byte", () => {
    expect(bytesToHex(new Uint8Array([0x12, 0x10]))).toBe("1210");
    expect(bytesToHex(new Uint8Array([0, 0x0a, 0xff]))).toBe("000aff");
    expect(bytesToHex(new Uint8Array(0))).toBe("");
  });

  it("randomHex gives 2 x n hex digits, different each time", () => {
    const a = randomHex(16);
    const b = randomHex(16);
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(b).toMatch(/^[0-9a-f]{32}$/);
    expect(a).not.toBe(b);
    expect(randomHex(8)).toHaveLength(16);
  });
});
