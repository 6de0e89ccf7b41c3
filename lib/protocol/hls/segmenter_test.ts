import { describe, expect, it } from "bun:test";
import { HlsSegmenter, PROGRAM_DATE_RESYNC_MS } from "./segmenter.ts";

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

  describe("program dates (EXT-X-PROGRAM-DATE-TIME)", () => {
    /** A segmenter on a clock the test moves; frames every 0.5 s, each a cut point. */
    function clocked() {
      let now = 1_800_000_000_000;
      const seg = new HlsSegmenter({ targetDuration: 1, clock: () => now });
      return {
        seg,
        at: (ms: number) => void (now = ms),
        get now() {
          return now;
        },
        frame(time: number, keyframe = true) {
          seg.frame(time, keyframe);
          seg.append(new Uint8Array(1));
        },
      };
    }

    it("follow the media's timeline: consecutive dates differ by the segments' durations", () => {
      const c = clocked();
      const start = c.now;
      for (let i = 0; i < 10; i++) {
        // Arrivals jitter by up to 40 ms; the dates do not.
        c.at(start + i * 500 + (i % 3) * 20);
        c.frame(i * 0.5);
      }
      const dates = c.seg.segments.map((s) => s.programDateTime);
      expect(dates[0]).toBe(start);
      for (let i = 1; i < dates.length; i++) {
        expect(dates[i] - dates[i - 1]).toBe(Math.round(c.seg.segments[i - 1].duration * 1000));
      }
    });

    it("a replayed GOP (older frames in a burst) is dated from its last frame's arrival, not its first", () => {
      const c = clocked();
      const now = c.now;
      // A 2 s GOP cache (one keyframe) replayed at once, then live frames in real time from the next keyframe.
      for (let i = 0; i < 4; i++) c.frame(i * 0.5, i === 0);
      for (let i = 4; i < 8; i++) {
        c.at(now + (i - 4) * 500 + 500);
        c.frame(i * 0.5);
      }
      // The last cached frame (media 1.5 s) arrived at `now`: media 0 was captured 1.5 s earlier.
      expect(c.seg.segments[0].programDateTime).toBe(now - 1500);
    });

    it("start again from the clock when the source paused longer than the resync limit", () => {
      const c = clocked();
      const start = c.now;
      for (let i = 0; i < 4; i++) {
        c.at(start + i * 500);
        c.frame(i * 0.5);
      }
      // 10 s without frames; media time goes on where it was (the feed skips long gaps).
      const resumed = start + 1500 + PROGRAM_DATE_RESYNC_MS + 7000;
      for (let i = 4; i < 8; i++) {
        c.at(resumed + (i - 4) * 500);
        c.frame(i * 0.5);
      }
      // Segments of 1 s: [0, 1) and [1, 2) were captured before the pause, [2, 3) starts with its first frame after it.
      expect(c.seg.segments.map((s) => s.programDateTime)).toEqual([start, start + 1000, resumed]);
    });
  });
});
