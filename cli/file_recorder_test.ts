import { describe, expect, it } from "bun:test";
import { formatOfPath, segmentPath } from "./file_recorder.ts";

describe("file_recorder helpers", () => {
  it("tells the container from the extension", () => {
    expect(formatOfPath("a.mp4")).toBe("mp4");
    expect(formatOfPath("dir.x/a.MOV")).toBe("mp4");
    expect(formatOfPath("a.ts")).toBe("mpegts");
    expect(formatOfPath("a.m2ts")).toBe("mpegts");
    expect(formatOfPath("a.mkv")).toBeUndefined();
    expect(formatOfPath("-")).toBeUndefined();
  });

  it("names segments", () => {
    expect(segmentPath("out.mp4", 0)).toBe("out_000.mp4");
    expect(segmentPath("rec/cam.ts", 12)).toBe("rec/cam_012.ts");
    expect(segmentPath("rec.d/cam", 3)).toBe("rec.d/cam_003");
    expect(segmentPath("cam-%05d.mp4", 7)).toBe("cam-00007.mp4");
    expect(segmentPath("cam-%d.mp4", 7)).toBe("cam-7.mp4");
  });
});
