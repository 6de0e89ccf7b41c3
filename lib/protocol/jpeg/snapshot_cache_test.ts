import { describe, expect, it } from "bun:test";
import { JpegSnapshotCache } from "./snapshot_cache.ts";

describe("JpegSnapshotCache", () => {
  it("serves entries younger than the asked age and evicts the oldest past its size", () => {
    const cache = new JpegSnapshotCache(2);
    const a = new Uint8Array([1]);
    cache.set("a", a, 1000);
    expect(cache.get("a", 500, 1400)?.jpeg).toBe(a);
    expect(cache.get("a", 500, 1600)).toBeUndefined();
    cache.set("b", new Uint8Array([2]), 1000);
    cache.set("c", new Uint8Array([3]), 1000);
    expect(cache.size).toBe(2);
    expect(cache.get("a", 10_000, 1000)).toBeUndefined();
  });
});
