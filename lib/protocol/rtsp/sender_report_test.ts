import { describe, expect, it } from "bun:test";
import { ntpToMs, parseRtcp } from "../../rtp/rtcp.ts";
import {
  clockCorrection,
  extrapolateRtpTimestamp,
  lateness,
  MAX_BACKWARD_STEP_MS,
  randomCname,
  SENDER_REPORT_INTERVAL_MS,
  senderReport,
  wallClockMs,
} from "./sender_report.ts";

describe("sender reports", () => {
  it("extrapolates the RTP clock by the elapsed time at the codec rate, modulo 2^32", () => {
    expect(extrapolateRtpTimestamp(90000, 1000, 1500, 90000)).toBe(135000);
    expect(extrapolateRtpTimestamp(1000, 10, 10, 48000)).toBe(1000);
    expect(extrapolateRtpTimestamp(0xffffff00, 0, 10, 90000)).toBe((0xffffff00 + 900) >>> 0);
    expect(extrapolateRtpTimestamp(5, 0, 0.5, 8000)).toBe(9);
  });

  it("serializes SR + SDES(CNAME) as one compound packet, with headroom", () => {
    const wall = Date.UTC(2024, 5, 1, 12, 0, 0, 250);
    const info = {
      ssrc: 0xdeadbeef,
      wallClockMs: wall,
      rtpTimestamp: 0x80000001,
      packetCount: 2 ** 32 + 5,
      octetCount: 1234,
    };
    const out = senderReport(info, "abcdefghijklmnop", 4);
    expect(out.length % 4).toBe(0);
    expect(Array.from(out.subarray(0, 4))).toEqual([0, 0, 0, 0]);
    const packets = parseRtcp(out.subarray(4));
    expect(packets.length).toBe(2);
    const [sr, sdes] = packets;
    expect(sr).toMatchObject({
      type: "sr",
      ssrc: 0xdeadbeef,
      rtpTimestamp: 0x80000001,
      packetCount: 5, // wraps
      octetCount: 1234,
      reports: [],
    });
    if (sr.type !== "sr") throw new Error("not an SR");
    expect(Math.abs(ntpToMs(sr.ntpSeconds, sr.ntpFraction) - wall)).toBeLessThan(0.001);
    expect(sdes).toEqual({
      type: "sdes",
      chunks: [{ ssrc: 0xdeadbeef, items: [{ type: 1, text: "abcdefghijklmnop" }] }],
    });
    // SR first, as RFC 3550 section 6.1 requires of a compound packet.
    expect(out[5]).toBe(200);
    // SDES chunk: SSRC, CNAME item (2 + length), END, padded to 32 bits: 24 bytes for 16 chars, 8 for 1.
    expect(senderReport(info, "x").length).toBe(out.length - 4 - 16);
  });

  it("draws a fresh 96-bit CNAME per call and keeps the interval at RFC 3550's 5 s minimum", () => {
    const a = randomCname();
    expect(a).toMatch(/^[A-Za-z0-9+/]{16}$/);
    expect(randomCname()).not.toBe(a);
    expect(SENDER_REPORT_INTERVAL_MS).toBe(5000);
  });

  it("turns a monotonic reading into wallclock milliseconds", () => {
    expect(Math.abs(wallClockMs(performance.now()) - Date.now())).toBeLessThan(1000);
  });
});

describe("track clock", () => {
  it("measures lateness against the clock, negative when a frame is ahead", () => {
    expect(lateness(0, 1000, 1100, 90000, 4500)).toBe(4500);
    expect(lateness(0, 1000, 1000, 90000, 9000)).toBe(-9000);
    // Across the 32-bit wrap.
    expect(lateness(0xffffff00, 0, 0, 90000, 0x100)).toBe(-0x200);
  });

  it("corrects later at once, earlier by 10 ms a report, and follows jumps past a second", () => {
    expect(clockCorrection(Infinity, 90000)).toBe(0);
    expect(clockCorrection(4500.4, 90000)).toBe(4500);
    expect(clockCorrection(-450, 90000)).toBe(-450);
    expect(clockCorrection(-9000, 90000)).toBe(-MAX_BACKWARD_STEP_MS * 90);
    expect(clockCorrection(-9000, 48000)).toBe(-MAX_BACKWARD_STEP_MS * 48);
    expect(clockCorrection(-200000, 90000)).toBe(-200000);
    expect(clockCorrection(-5, 0)).toBe(0);
  });
});
