import { describe, expect, it } from "bun:test";
import { RtpRewriter, SequenceRewriter, TimestampRewriter } from "./rtp_rewriter.ts";
import type { RtpPacket } from "./packet.ts";
import { loadCapture } from "../../tests/_support/fixtures.ts";

describe("SequenceRewriter", () => {
  it("keeps gaps and order within one input and continues after reset", () => {
    const s = new SequenceRewriter(65534);
    expect([100, 101, 103, 102].map((n) => s.rewrite(n))).toEqual([65534, 65535, 1, 0]);
    expect(s.highest).toBe(1);
    s.reset();
    expect(s.rewrite(40000)).toBe(2);
    expect(s.rewrite(40001)).toBe(3);
  });

  it("reset before any packet keeps the initial value", () => {
    const s = new SequenceRewriter(10);
    s.reset();
    expect(s.rewrite(500)).toBe(10);
  });

  it("handles input wraparound", () => {
    const s = new SequenceRewriter(0);
    expect([65534, 65535, 0, 1].map((n) => s.rewrite(n))).toEqual([0, 1, 2, 3]);
  });
});

describe("TimestampRewriter", () => {
  it("continues one learned step after reset", () => {
    const t = new TimestampRewriter({ initial: 0 });
    expect([123000, 126000, 129000].map((n) => t.rewrite(n))).toEqual([0, 3000, 6000]);
    expect(t.step).toBe(3000);
    t.reset();
    expect(t.rewrite(5)).toBe(9000);
    expect(t.rewrite(3005)).toBe(12000);
  });

  it("uses an explicit delta, or wall-clock time with the clock rate", () => {
    const t = new TimestampRewriter({ initial: 1000, clockRate: 8000 });
    t.rewrite(0);
    t.reset({ delta: 160 });
    expect(t.rewrite(999)).toBe(1160);
    t.reset({ elapsedMs: 500 });
    expect(t.rewrite(77)).toBe(1160 + 4000);
  });

  it("wraps at 2^32 and never goes backwards across a reset with B-frame order", () => {
    const t = new TimestampRewriter({ initial: 0xffffffff - 3000 });
    // Presentation-order timestamps of an IPBB stream: not monotonic.
    const out = [0, 9000, 3000, 6000].map((n) => t.rewrite(n));
    expect(out).toEqual([0xffffffff - 3000, 5999, 0xffffffff, 2999]);
    expect(t.highest).toBe(5999);
    t.reset();
    expect(t.rewrite(1)).toBe(5999 + 3000);
  });
});

describe("RtpRewriter", () => {
  it("makes a source switch invisible: a continuous sequence and timeline from two real captures", async () => {
    const a = await loadCapture(new URL("./testdata/ffmpeg_pcma_rtcp.rtp", import.meta.url));
    // A second "source": same audio, other SSRC and random bases, as after a camera reconnect.
    const b: RtpPacket[] = a.slice(0, 50).map((p) => ({
      ...p,
      ssrc: 0x0badf00d,
      sequenceNumber: (p.sequenceNumber + 12345) & 0xffff,
      timestamp: (p.timestamp + 0x7fff0000) >>> 0,
    }));
    const rw = new RtpRewriter({ ssrc: 42, sequenceNumber: 65000, timestamp: 0, payloadType: 8 });
    const first = a.slice(0, 100);
    const out = [...first, ...b].map((p) => rw.rewrite(p));
    for (let i = 0; i < out.length; i++) {
      expect(out[i].ssrc).toBe(42);
      expect(out[i].sequenceNumber).toBe((65000 + i) & 0xffff);
      if (i > 0) {
        // Every step forward equals the samples in the previous packet: no jump at the switch.
        const prev = i <= 100 ? [...first, ...b][i - 1] : b[i - 101];
        expect((out[i].timestamp - out[i - 1].timestamp) >>> 0).toBe(
          i === 100 ? rw.timestamp.step : prev.payload.length,
        );
      }
    }
    // Input packets are not mutated and payloads are shared, not copied.
    expect(a[0].ssrc).not.toBe(42);
    expect(out[0].payload).toBe(a[0].payload);
  });
});
