import { describe, expect, it } from "bun:test";
import { httpUrl, parseListen } from "./listen.ts";

describe("parseListen", () => {
  it("parses go2rtc-style addresses", () => {
    expect(parseListen(":1984")).toEqual({ hostname: "::", port: 1984 });
    expect(parseListen("0.0.0.0:1984")).toEqual({ hostname: "0.0.0.0", port: 1984 });
    expect(parseListen("127.0.0.1:0")).toEqual({ hostname: "127.0.0.1", port: 0 });
    expect(parseListen("[::1]:8554")).toEqual({ hostname: "::1", port: 8554 });
    expect(parseListen("1984")).toEqual({ hostname: "::", port: 1984 });
    expect(parseListen("")).toBeUndefined();
  });

  it("rejects a bad port with the address in the message", () => {
    expect(() => parseListen("host:99999")).toThrow(/host:99999/);
    expect(() => parseListen("host")).toThrow(RangeError);
  });

  it("shows wildcard hosts as loopback URLs", () => {
    expect(httpUrl({ hostname: "0.0.0.0", port: 1984 })).toBe("http://127.0.0.1:1984");
    expect(httpUrl({ hostname: "::1", port: 80 })).toBe("http://[::1]:80");
  });
});
