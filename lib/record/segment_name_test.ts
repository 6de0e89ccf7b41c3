import { describe, expect, it } from "bun:test";
import { parseSegmentFileName, segmentFileName } from "./segment_name.ts";

describe("segment file names", () => {
  it("carry the start time, without colons, and sort by time", () => {
    const ms = Date.UTC(2026, 11, 3, 17, 19, 15, 123);
    expect(segmentFileName(ms)).toBe("2026-12-03T17-19-15.123Z.mp4");
    expect(parseSegmentFileName(segmentFileName(ms))).toBe(ms);
    const names = [ms + 60_000, ms, ms + 1].map(segmentFileName).sort();
    expect(names.map(parseSegmentFileName)).toEqual([ms, ms + 1, ms + 60_000]);
  });

  it("ignores other files", () => {
    for (const name of ["notes.txt", "2026-12-03T17:19:15Z.mp4", "2026-13-03T17-19-15Z.mp4", ".x.mp4.tmp"]) {
      expect(parseSegmentFileName(name)).toBeUndefined();
    }
    expect(parseSegmentFileName("2026-12-03T17-19-15Z.mp4")).toBe(Date.UTC(2026, 11, 3, 17, 19, 15));
  });
});
