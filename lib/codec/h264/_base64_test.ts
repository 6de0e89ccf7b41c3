import { describe, expect, it } from "bun:test";
import { base64ToBytes, bytesToBase64 } from "./_base64.ts";

describe("base64", () => {
  it("round-trips all byte values and long inputs", () => {
    const data = new Uint8Array(70_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
    expect(base64ToBytes(bytesToBase64(data))).toEqual(data);
    expect(bytesToBase64(new Uint8Array([0x68, 0xef, 0x06]))).toBe("aO8G");
  });

  it("accepts missing padding and URL-safe letters, rejects garbage", () => {
    expect([...base64ToBytes("aO8GcsA")]).toEqual([0x68, 0xef, 0x06, 0x72, 0xc0]);
    expect([...base64ToBytes("-_8")]).toEqual([0xfb, 0xff]);
    expect(() => base64ToBytes("a*b")).toThrow(SyntaxError);
  });
});
