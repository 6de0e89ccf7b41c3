import { describe, expect, it } from "bun:test";
import { HlsSegmenter } from "./segmenter.ts";

describe("HlsSegmenter", () => {
  it("cuts at the first cut point after the target duration", () => {
    const seg = new HlsSegmenter({ targetDuration: 1 });
    for (let i = 0; i < 100; i++) {
      const t = i * 0.04; // 25 fps, a keyframe every 0.6 s
      seg.frame(t, i % 15 === 0);
      seg.append(new Uint8Array(10));
    }
    // Keyframes at 0, 0.6, 1.2, 1.8, 2.4, 3.0, 3.6: cuts at 1.2, 2.4, 3.6.
    expect(seg.segments.map((s) => Math.round(s.duration * 100) / 100)).toEqual([1.2, 1.2, 1.2]);
    expect(seg.segments.map((s) => s.sequence)).toEqual([0, 1, 2]);
    expect(seg.segments[0].data.length).toBe(30 * 10);
  });

  it("keeps at most maxSegments, evicting the oldest", () => {
    const seg = new HlsSegmenter({ targetDuration: 1, maxSegments: 3 });
    for (let i = 0; i < 10; i++) {
      seg.frame(i, true);
      seg.append(new Uint8Array(1));
    }
    expect(seg.segments.map((s) => s.sequence)).toEqual([6, 7, 8]);
    expect(seg.get(5)).toBeUndefined();
    expect(seg.get(7)?.sequence).toBe(7);
    expect(seg.evicted).toBe(6);
  });

  it("stays within its byte budget, cutting without a keyframe if it must", () => {
    const seg = new HlsSegmenter({ targetDuration: 1, maxBytes: 3000 });
    for (let i = 0; i < 1000; i++) {
      seg.frame(i * 0.04, i === 0); // one keyframe only: a pathological camera
      seg.append(new Uint8Array(100));
      expect(seg.bytes).toBeLessThanOrEqual(3000 + 100);
    }
    expect(seg.forcedCuts).toBeGreaterThan(0);
    expect(seg.segments.length).toBeGreaterThan(0);
  });

  it("waitFor resolves when the segment is finished, false on timeout or close", async () => {
    const seg = new HlsSegmenter({ targetDuration: 1 });
    const first = seg.waitFor(0, 1000);
    seg.frame(0, true);
    seg.append(new Uint8Array(1));
    seg.frame(1, true);
    expect(await first).toBe(true);
    expect(await seg.waitFor(5, 10)).toBe(false);
    const pending = seg.waitFor(1, 1000);
    seg.close();
    expect(await pending).toBe(false);
    expect(seg.segments).toEqual([]);
  });
});
