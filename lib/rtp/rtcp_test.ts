import { describe, expect, it } from "bun:test";
import {
  isRtcp,
  ntpFromMs,
  ntpMiddle32,
  ntpToMs,
  parseRtcp,
  type RtcpPacket,
  RtcpParseError,
  type RtcpSenderReport,
  rtcpSize,
  SdesItemType,
  serializeRtcp,
} from "./rtcp.ts";
import { readRtpCapture } from "./capture.ts";
import { parseRtp } from "./packet.ts";
import { loadFixture } from "../../tests/_support/fixtures.ts";

const fixture = (name: string) => loadFixture(new URL(`./testdata/${name}`, import.meta.url));

describe("RTCP", () => {
  it("parses ffmpeg's sender reports, SDES and BYE and writes them back byte for byte", async () => {
    const datagrams = readRtpCapture(await fixture("ffmpeg_pcma_rtcp.rtcp"));
    const rtp = readRtpCapture(await fixture("ffmpeg_pcma_rtcp.rtp")).map((d) => parseRtp(d));
    const ssrc = rtp[0].ssrc;
    expect(datagrams.length).toBeGreaterThanOrEqual(2);
    let srs = 0;
    let byes = 0;
    for (const d of datagrams) {
      expect(isRtcp(d)).toBe(true);
      const packets = parseRtcp(d);
      expect(serializeRtcp(packets)).toEqual(d);
      for (const p of packets) {
        if (p.type === "sr") {
          srs++;
          expect(p.ssrc).toBe(ssrc);
          // The SR's RTP timestamp is on the stream's timeline and its NTP time is a plausible date.
          expect(ntpToMs(p.ntpSeconds, p.ntpFraction)).toBeGreaterThan(Date.UTC(2020, 0, 1));
          expect(p.packetCount).toBeLessThanOrEqual(rtp.length);
          // Octet count is the payload bytes of the packets sent so far (RFC 3550 6.4.1).
          const octets = rtp.slice(0, p.packetCount).reduce((n, pkt) => n + pkt.payload.length, 0);
          expect(p.octetCount).toBe(octets);
        }
        if (p.type === "sdes") {
          expect(p.chunks[0].ssrc).toBe(ssrc);
          expect(p.chunks[0].items).toContainEqual({ type: SdesItemType.CNAME, text: "strom-fixture" });
        }
        if (p.type === "bye") {
          byes++;
          expect(p.ssrcs).toEqual([ssrc]);
        }
      }
    }
    expect(srs).toBe(datagrams.length);
    expect(byes).toBe(1);
    // RTP datagrams are not RTCP on a muxed port.
    expect(isRtcp(readRtpCapture(await fixture("ffmpeg_pcma_rtcp.rtp"))[0])).toBe(false);
  });

  it("round-trips a compound packet of every kind", () => {
    const compound: RtcpPacket[] = [
      {
        type: "sr",
        ssrc: 0xdeadbeef,
        ntpSeconds: 3_900_000_000,
        ntpFraction: 0x80000000,
        rtpTimestamp: 4_000_000_000,
        packetCount: 1000,
        octetCount: 160000,
        reports: [{
          ssrc: 1,
          fractionLost: 25,
          packetsLost: -3,
          highestSequence: 0x0001fff0,
          jitter: 42,
          lastSenderReport: 0x12345678,
          delaySinceLastSenderReport: 65536,
        }],
      },
      { type: "rr", ssrc: 2, reports: [] },
      {
        type: "sdes",
        chunks: [
          {
            ssrc: 2,
            items: [{ type: SdesItemType.CNAME, text: "camera-1" }, {
              type: SdesItemType.TOOL,
              text: "strom ✓",
            }],
          },
          { ssrc: 3, items: [] },
          { ssrc: 4, items: [{ type: SdesItemType.NAME, text: "abc" }] }, // 2+3 bytes + END = exactly 8: padding boundary
        ],
      },
      { type: "bye", ssrcs: [2, 3], reason: "shutdown" },
      { type: "bye", ssrcs: [] },
      { type: "raw", packetType: 206, count: 1, payload: new Uint8Array([0, 0, 0, 2, 0, 0, 0, 1]) },
    ];
    const bytes = serializeRtcp(compound);
    expect(bytes.length % 4).toBe(0);
    expect(bytes.length).toBe(compound.reduce((n, p) => n + rtcpSize(p), 0));
    expect(parseRtcp(bytes)).toEqual(compound);
  });

  it("ignores padding on the last packet", () => {
    const rr = serializeRtcp({ type: "rr", ssrc: 7, reports: [] });
    const padded = new Uint8Array(rr.length + 4);
    padded.set(rr);
    padded[0] |= 0x20;
    padded[3] += 1; // one more word
    padded[padded.length - 1] = 4;
    expect(parseRtcp(padded)).toEqual([{ type: "rr", ssrc: 7, reports: [] }]);
  });

  it("rejects bad versions and lengths with the offset of the bad packet", () => {
    const rr = serializeRtcp({ type: "rr", ssrc: 7, reports: [] });
    const twice = new Uint8Array(rr.length * 2);
    twice.set(rr);
    twice.set(rr, rr.length);
    twice[rr.length] = 0x40 | (twice[rr.length] & 0x3f);
    expect(() => parseRtcp(twice)).toThrow(RtcpParseError);
    try {
      parseRtcp(twice);
    } catch (e) {
      expect((e as RtcpParseError).offset).toBe(rr.length);
      expect((e as Error).message).toContain("version 1");
    }
    const long = rr.slice();
    long[3] = 10;
    expect(() => parseRtcp(long)).toThrow(/length field says 44 bytes/);
    const sr = serializeRtcp({
      type: "sr",
      ssrc: 1,
      ntpSeconds: 0,
      ntpFraction: 0,
      rtpTimestamp: 0,
      packetCount: 0,
      octetCount: 0,
      reports: [],
    });
    sr[0] |= 2; // claims two report blocks it does not have
    expect(() => parseRtcp(sr)).toThrow(/report blocks/);
    expect(() => parseRtcp(new Uint8Array(2))).toThrow(RtcpParseError);
  });

  it("refuses to write more than 31 report blocks", () => {
    const block = {
      ssrc: 1,
      fractionLost: 0,
      packetsLost: 0,
      highestSequence: 0,
      jitter: 0,
      lastSenderReport: 0,
      delaySinceLastSenderReport: 0,
    };
    expect(() => serializeRtcp({ type: "rr", ssrc: 1, reports: new Array(32).fill(block) })).toThrow(
      RangeError,
    );
  });

  it("converts NTP time", () => {
    const ms = Date.UTC(2024, 5, 1, 12, 0, 0, 250);
    const { seconds, fraction } = ntpFromMs(ms);
    expect(Math.abs(ntpToMs(seconds, fraction) - ms)).toBeLessThan(0.001);
    expect(ntpMiddle32(0x0001_2345, 0x6789_0000)).toBe(0x2345_6789);
    const sr: RtcpSenderReport = {
      type: "sr",
      ssrc: 1,
      ntpSeconds: seconds,
      ntpFraction: fraction,
      rtpTimestamp: 0,
      packetCount: 0,
      octetCount: 0,
      reports: [],
    };
    expect((parseRtcp(serializeRtcp(sr))[0] as RtcpSenderReport).ntpSeconds).toBe(seconds);
  });
});
