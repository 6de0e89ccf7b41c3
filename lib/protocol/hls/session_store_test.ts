import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { Stream } from "../../core/stream.ts";
import { registerDemoSource } from "../demo/register.ts";
import { outputMedias, TS_CODECS } from "../http/output_medias.ts";
import { HlsLimitError, HlsSessionStore } from "./session_store.ts";

describe("HlsSessionStore with the demo source", () => {
  let stream: Stream;
  beforeAll(() => {
    registerDemoSource();
    stream = new Stream("demo", ["demo:"], { graceMs: 10 });
  });
  afterAll(async () => {
    await stream.close();
  });

  it("opens sessions with random ids, serves playlists and segments, and refuses past the limit", async () => {
    const store = new HlsSessionStore({ maxSessions: 1, sessionTimeoutMs: 60_000 });
    try {
      const medias = outputMedias(new URLSearchParams(""), TS_CODECS);
      const s = await store.create(stream, { format: "mpegts", medias });
      expect(s.sessionId).toMatch(/^[a-z0-9]{12}$/);
      expect(store.get(s.sessionId)).toBe(s);
      await expect(store.create(stream, { format: "mpegts", medias })).rejects.toThrow(HlsLimitError);
      const text = await s.playlist(5_000);
      expect(text).toContain(`segment.ts?id=${s.sessionId}&n=0`);
      const seg = await s.segment(0, 5_000);
      expect(seg![0]).toBe(0x47); // MPEG-TS sync byte
      expect(stream.consumers()).toEqual([s]);
    } finally {
      await store.close();
    }
    expect(store.size).toBe(0);
    expect(stream.consumers()).toEqual([]);
  }, 15_000);

  it("closes sessions nobody asked for within the timeout", async () => {
    const store = new HlsSessionStore({ sessionTimeoutMs: 200 });
    try {
      const s = await store.create(stream, { format: "fmp4", medias: outputMedias(new URLSearchParams(""), TS_CODECS) });
      expect(store.size).toBe(1);
      store.sweep(Date.now() + 1_000);
      await new Promise((r) => setTimeout(r, 20));
      expect(store.size).toBe(0);
      expect(store.get(s.sessionId)).toBeUndefined();
      expect(stream.consumers()).toEqual([]);
      expect(await s.playlist(100)).toBeUndefined();
    } finally {
      await store.close();
    }
  }, 15_000);
});
