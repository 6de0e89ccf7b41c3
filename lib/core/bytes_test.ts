import { describe, expect, it } from "bun:test";
import { base64ToBytes, bytesToBase64, bytesToHex, concatBytes, randomHex, writeU32BE } from "./bytes.ts";

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

  it("base64 round-trips every byte value, inputs longer than one fromCharCode call, and text", () => {
    const data = new Uint8Array(70_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
    expect(base64ToBytes(bytesToBase64(data))).toEqual(data);
    expect(bytesToBase64(new Uint8Array([0x68, 0xef, 0x06]))).toBe("aO8G");
    expect(bytesToBase64(new Uint8Array([0xfb, 0xff]))).toBe("+/8=");
    expect(bytesToBase64(new Uint8Array(0))).toBe("");
    const text = "admin:pässwörd";
    expect(new TextDecoder().decode(base64ToBytes(bytesToBase64(new TextEncoder().encode(text))))).toBe(text);
  });

  it("base64ToBytes accepts missing padding; URL-safe letters only when lenient", () => {
    expect([...base64ToBytes("aO8GcsA")]).toEqual([0x68, 0xef, 0x06, 0x72, 0xc0]);
    expect([...base64ToBytes("+/8=")]).toEqual([0xfb, 0xff]);
    expect([...base64ToBytes("-_8", { lenient: true })]).toEqual([0xfb, 0xff]);
    expect(() => base64ToBytes("-_8")).toThrow(SyntaxError);
  });

  it("base64ToBytes names the input it cannot decode", () => {
    expect(() => base64ToBytes("a*b")).toThrow(/Cannot decode base64 "a\*b"/);
    expect(() => base64ToBytes("a")).toThrow(SyntaxError);
    expect(() => base64ToBytes("x".repeat(100) + "!")).toThrow(/"x{40}\.\.\."/);
  });
});
