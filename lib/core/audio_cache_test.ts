import { describe, expect, it } from "bun:test";
import { AudioCache } from "./audio_cache.ts";

const frame = (i: number, size = 100) => ({ timestamp: i * 1024, keyframe: true, data: new Uint8Array(size).fill(i & 0xff) });

describe("AudioCache", () => {
  it("gives the frames that arrived since a time, oldest first, with their bytes intact", () => {
    const cache = new AudioCache();
    for (let i = 0; i < 50; i++) cache.push(frame(i), 1000 + i * 20);
    const since = cache.framesSince(1000 + 30 * 20);
    expect(since.map((f) => f.timestamp)).toEqual(Array.from({ length: 20 }, (_, k) => (30 + k) * 1024));
    expect(since.every((f, k) => f.data.length === 100 && f.data.every((b) => b === 30 + k))).toBe(true);
    expect(cache.framesSince(99_999)).toEqual([]);
  });

  it("drops frames older than maxAgeMs and beyond maxBytes, and keeps data right across compactions", () => {
    const cache = new AudioCache({ maxAgeMs: 1_000, maxBytes: 30_000 });
    // 2 000 frames of 700 bytes, 20 ms apart: the buffer fills and is compacted many times.
    for (let i = 0; i < 2_000; i++) cache.push(frame(i, 700), i * 20);
    // 30 000 bytes hold 42 frames of 700 (the age limit, 50 frames, is not reached).
    expect(cache.size).toBe(42);
    const all = cache.framesSince(0);
    expect(all[0].timestamp).toBe(1958 * 1024);
    expect(all.every((f) => f.data.every((b) => b === ((f.timestamp / 1024) & 0xff)))).toBe(true);
    const aged = new AudioCache({ maxAgeMs: 1_000 });
    for (let i = 0; i < 200; i++) aged.push(frame(i), i * 20);
    expect(aged.size).toBe(51); // 1 000 ms of 20 ms frames, both ends included
  });

  it("ignores a frame larger than the whole cache", () => {
    const cache = new AudioCache({ maxBytes: 10 });
    cache.push(frame(1, 11), 0);
    expect(cache.size).toBe(0);
  });
});
