import { describe, expect, it } from "bun:test";
import { parseRtp, RtpParseError, serializeRtp, tryParseRtp } from "./packet.ts";

describe("tryParseRtp", () => {
  it("parses what serializeRtp wrote", () => {
    const bytes = serializeRtp({
      payloadType: 96,
      marker: true,
      sequenceNumber: 65535,
      timestamp: 0xfffffff0,
      ssrc: 0x01020304,
      payload: new Uint8Array([1, 2, 3]),
    });
    const pkt = tryParseRtp(bytes)!;
    expect([pkt.payloadType, pkt.marker, pkt.sequenceNumber, pkt.timestamp, pkt.ssrc]).toEqual([
      96,
      true,
      65535,
      0xfffffff0,
      0x01020304,
    ]);
    expect([...pkt.payload]).toEqual([1, 2, 3]);
  });

  it("gives undefined where parseRtp throws RtpParseError: short, wrong version, bad padding", () => {
    const bad = [
      new Uint8Array(11),
      new Uint8Array([0x40, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xaa]),
      new Uint8Array([0xa0, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xaa, 9]),
      new Uint8Array([0x8f, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]),
    ];
    for (const b of bad) {
      expect(() => parseRtp(b)).toThrow(RtpParseError);
      expect(tryParseRtp(b)).toBeUndefined();
    }
  });
});
