import { describe, expect, it } from "bun:test";
import { PacketSizeError, parsePacketSize } from "./packet_size.ts";

describe("parsePacketSize", () => {
  it("reads whole byte counts in range and treats empty and 0 as not set", () => {
    expect(parsePacketSize("1200", "?pkt_size=")).toBe(1200);
    expect(parsePacketSize(" 100 ", "?pkt_size=")).toBe(100);
    expect(parsePacketSize(65535, "rtsp.pkt_size")).toBe(65535);
    for (const unset of [undefined, null, "", 0, "0"]) expect(parsePacketSize(unset, "x")).toBeUndefined();
  });

  it("refuses other values with an error naming the value, where it came from and the range", () => {
    for (const bad of ["99", "65536", "1e3", "-5", "12.5", "abc"]) {
      let caught: unknown;
      try {
        parsePacketSize(bad, "The URL's ?pkt_size=");
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(PacketSizeError);
      const e = caught as PacketSizeError;
      expect(e.name).toBe("PacketSizeError");
      expect(e.value).toBe(bad);
      expect(e.message).toContain(`The URL's ?pkt_size= is "${bad}"`);
      expect(e.message).toContain("100 to 65535");
    }
  });
});
