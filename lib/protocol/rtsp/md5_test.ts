import { describe, expect, it } from "bun:test";
import { md5Hex } from "./md5.ts";

describe("md5", () => {
  it("matches the RFC 1321 test suite", () => {
    expect(md5Hex("")).toBe("d41d8cd98f00b204e9800998ecf8427e");
    expect(md5Hex("a")).toBe("0cc175b9c0f1b6a831c399e269772661");
    expect(md5Hex("abc")).toBe("900150983cd24fb0d6963f7d28e17f72");
    expect(md5Hex("message digest")).toBe("f96b697d7cb7938d525a2f31aaf161d0");
    expect(md5Hex("abcdefghijklmnopqrstuvwxyz")).toBe("c3fcd3d76192e4007dfb496cca67e13b");
    expect(md5Hex("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"))
      .toBe("d174ab98d277d9f5a5611c2c9f419d9f");
    expect(md5Hex("1234567890".repeat(8))).toBe("57edf4a22be3c955ac49da2e2107b67a");
  });

  it("handles lengths around the 56-byte padding boundary and UTF-8", () => {
    // Values computed with `printf %s ... | md5sum`.
    expect(md5Hex("x".repeat(55))).toBe("04364420e25c512fd958a70738aa8f72");
    expect(md5Hex("x".repeat(56))).toBe("668a72d5ba17f08e62dabcafad6db14b");
    expect(md5Hex("x".repeat(64))).toBe("c1bb4f81d892b2d57947682aeb252456");
    expect(md5Hex("é")).toBe("66ddcd97cfdeabb2f6fb8a999b4bc76f");
  });
});
