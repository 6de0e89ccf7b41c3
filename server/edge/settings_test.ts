import { describe, expect, it } from "bun:test";
import type { EdgeConfig } from "../config/types.ts";
import { edgeSettings } from "./settings.ts";

const of = (edge: Partial<EdgeConfig> | undefined) => edgeSettings({ edge: edge as EdgeConfig });

describe("edgeSettings", () => {
  it("is off without an origin or a central server, or with enabled: false", () => {
    expect(of(undefined)).toBeUndefined();
    expect(of({ origin: "", central_server: [""] })).toBeUndefined();
    expect(of({ enabled: false, central_server: ["http://c:1984"] })).toBeUndefined();
  });

  it("holds the last picture for hold (buffer_duration lands there) unless offline_mode is false", () => {
    expect(of({ central_server: ["http://c:1984"] })).toEqual({
      origin: undefined,
      centrals: ["http://c:1984"],
      routing: { strategy: "nearest", fallback: "round-robin" },
      holdMs: 30_000,
      refreshMs: 30_000,
      graceMs: undefined,
      cacheBytes: 0,
    });
    expect(of({ origin: "rtsp://c:8554", hold: 45 })?.holdMs).toBe(45_000);
    expect(of({ origin: "rtsp://c:8554", hold: 45, offline_mode: false })?.holdMs).toBe(0);
  });

  it("takes the cache's ttl as the grace after the last viewer and its size as the bound, only when enabled", () => {
    const cache = { enabled: true, size: 1 << 30, ttl: 300 };
    expect(of({ origin: "rtsp://c:8554", cache })).toMatchObject({ graceMs: 300_000, cacheBytes: 1 << 30 });
    expect(of({ origin: "rtsp://c:8554", cache: { ...cache, enabled: false } })).toMatchObject({
      graceMs: undefined,
      cacheBytes: 0,
    });
  });
});
