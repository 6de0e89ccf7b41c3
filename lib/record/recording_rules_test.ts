import { describe, expect, it } from "bun:test";
import { matchesPattern, RecordRules } from "./recording_rules.ts";

describe("recording rules", () => {
  it("match names and * patterns", () => {
    expect(matchesPattern("front_door", "front_door")).toBe(true);
    expect(matchesPattern("front_door", "front_*")).toBe(true);
    expect(matchesPattern("front_door", "*door")).toBe(true);
    expect(matchesPattern("front_door", "*")).toBe(true);
    expect(matchesPattern("garage", "front_*")).toBe(false);
    expect(matchesPattern("front.door", "front?door")).toBe(false); // only * is special
    expect(matchesPattern("frontXdoor", "front.door")).toBe(false);
  });

  it("apply overrides: an exact name before a pattern, unset keys from the section", () => {
    const rules = new RecordRules({
      streams: ["cam_*", "garage"],
      segment: 60,
      max_age: 86400,
      max_size: 0,
      overrides: { "cam_*": { segment: 10 }, cam_1: { max_size: 1000 } },
    });
    expect(["cam_1", "cam_2", "garage", "porch"].map((n) => rules.records(n))).toEqual([true, true, true, false]);
    expect(rules.settings("cam_1")).toEqual({ segmentSeconds: 60, maxAgeSeconds: 86400, maxBytes: 1000 });
    expect(rules.settings("cam_2")).toEqual({ segmentSeconds: 10, maxAgeSeconds: 86400, maxBytes: 0 });
    expect(rules.settings("garage")).toEqual({ segmentSeconds: 60, maxAgeSeconds: 86400, maxBytes: 0 });
  });
});
