import { describe, expect, it } from "bun:test";
import { Amf0EcmaArray, Amf0Error, decodeAmf0, decodeAmf0Value, encodeAmf0 } from "./amf0.ts";

describe("AMF0", () => {
  it("encodes an RTMP connect command byte for byte", () => {
    const bytes = encodeAmf0(["connect", 1, { app: "live" }]);
    expect([...bytes]).toEqual([
      0x02,
      0x00,
      0x07,
      ...new TextEncoder().encode("connect"),
      0x00,
      0x3f,
      0xf0,
      0,
      0,
      0,
      0,
      0,
      0,
      0x03,
      0x00,
      0x03,
      ...new TextEncoder().encode("app"),
      0x02,
      0x00,
      0x04,
      ...new TextEncoder().encode("live"),
      0x00,
      0x00,
      0x09,
    ]);
  });

  it("round-trips every value type", () => {
    const date = new Date(1700000000000);
    const values = [
      1.5,
      -0,
      true,
      false,
      "héllo",
      null,
      undefined,
      date,
      [1, "two", [3]],
      { nested: { deep: [true] }, n: 42 },
      "x".repeat(70000), // long string (0x0C)
    ];
    const back = decodeAmf0(encodeAmf0(values));
    expect(back).toEqual(values);
  });

  it("encodes an ECMA array as type 0x08 with its count", () => {
    const bytes = encodeAmf0([new Amf0EcmaArray({ width: 640, skipped: undefined, height: 480 })]);
    expect(bytes[0]).toBe(0x08);
    expect(new DataView(bytes.buffer).getUint32(1)).toBe(2);
    expect(decodeAmf0(bytes)).toEqual([{ width: 640, height: 480 }]);
  });

  it("decodes references and typed objects", () => {
    // object {a: 1}, then reference 0 to it
    const obj = encodeAmf0([{ a: 1 }]);
    const data = new Uint8Array([...obj, 0x07, 0x00, 0x00]);
    const [first, second] = decodeAmf0(data);
    expect(second).toBe(first);
    const typed = new Uint8Array([0x10, 0x00, 0x01, 0x43, 0x00, 0x01, 0x62, 0x01, 0x01, 0x00, 0x00, 0x09]);
    expect(decodeAmf0(typed)).toEqual([{ b: true }]);
  });

  it("tolerates an ECMA array that ends without the end marker", () => {
    const full = encodeAmf0([new Amf0EcmaArray({ a: 1 })]);
    expect(decodeAmf0(full.subarray(0, full.length - 3))).toEqual([{ a: 1 }]);
  });

  it("reports where decoding failed", () => {
    const truncated = encodeAmf0(["onMetaData"]).subarray(0, 5);
    expect(() => decodeAmf0(truncated)).toThrow(Amf0Error);
    try {
      decodeAmf0(new Uint8Array([0x02, 0x00, 0x01, 0x41, 0x42]));
    } catch (e) {
      expect(e).toBeInstanceOf(Amf0Error);
      expect((e as Amf0Error).offset).toBe(4);
      expect((e as Error).message).toMatch(/unknown type marker 0x42/);
    }
    expect(() => decodeAmf0(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff]))).toThrow(/exceeds/);
    expect(() => decodeAmf0(new Uint8Array([0x11, 0x01]))).toThrow(/AMF3/);
  });

  it("decodes one value at an offset", () => {
    const bytes = encodeAmf0(["_result", 2]);
    const first = decodeAmf0Value(bytes, 0);
    expect(first.value).toBe("_result");
    expect(decodeAmf0Value(bytes, first.next).value).toBe(2);
  });
});
