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
      expect(stream.consumers()).toEqual([s.feed]);
      expect([...stream.detached]).toEqual([s]);
    } finally {
      await store.close();
    }
    expect(store.size).toBe(0);
    expect(store.stats().feeds).toBe(0);
    expect(stream.consumers()).toEqual([]);
    expect(stream.detached.size).toBe(0);
  }, 15_000);

  it("sessions of the same stream, container and filter share one feed; others get their own", async () => {
    const store = new HlsSessionStore({ maxSessions: 0, sessionTimeoutMs: 60_000, feedLingerMs: 50 });
    try {
      const ts = () => ({ format: "mpegts" as const, medias: outputMedias(new URLSearchParams(""), TS_CODECS) });
      // Opened at once, before the first feed finished attaching: still one feed.
      const sessions = await Promise.all(Array.from({ length: 20 }, () => store.create(stream, ts())));
      expect(new Set(sessions.map((x) => x.sessionId)).size).toBe(20);
      expect(new Set(sessions.map((x) => x.feed)).size).toBe(1);
      expect(store.stats()).toMatchObject({ sessions: 20, feeds: 1 });
      expect(stream.consumers()).toEqual([sessions[0].feed]);
      expect(sessions[0].feed.info().viewers).toBe(20);
      const video = await store.create(stream, { format: "mpegts", medias: outputMedias(new URLSearchParams("video"), TS_CODECS) });
      const fmp4 = await store.create(stream, { format: "fmp4", medias: outputMedias(new URLSearchParams(""), TS_CODECS) });
      expect(store.stats()).toMatchObject({ sessions: 22, feeds: 3 });
      expect(video.feed).not.toBe(sessions[0].feed);
      expect(fmp4.feed).not.toBe(sessions[0].feed);

      // The last session of a feed gone, the feed lingers a little, then leaves the stream.
      for (const x of sessions.slice(1)) await store.delete(x.sessionId);
      expect(store.stats().feeds).toBe(3);
      await store.delete(sessions[0].sessionId);
      expect(store.stats().feeds).toBe(3);
      await new Promise((r) => setTimeout(r, 200));
      expect(store.stats()).toMatchObject({ sessions: 2, feeds: 2 });
      expect(stream.consumers()).not.toContain(sessions[0].feed);
      expect(sessions[0].segmenter.closed).toBe(true);
      // A viewer arriving later gets a new feed.
      const again = await store.create(stream, ts());
      expect(again.feed).not.toBe(sessions[0].feed);
    } finally {
      await store.close();
    }
    expect(store.stats()).toEqual({ sessions: 0, feeds: 0, bytes: 0 });
    expect(stream.consumers()).toEqual([]);
  }, 15_000);

  it("a viewer returning within the linger time keeps the feed and its segments", async () => {
    const store = new HlsSessionStore({ sessionTimeoutMs: 60_000, feedLingerMs: 60_000 });
    try {
      const medias = outputMedias(new URLSearchParams(""), TS_CODECS);
      const a = await store.create(stream, { format: "mpegts", medias });
      await a.playlist(5_000);
      await store.delete(a.sessionId);
      const b = await store.create(stream, { format: "mpegts", medias });
      expect(b.feed).toBe(a.feed);
      expect(b.segmenter.segments.length).toBeGreaterThanOrEqual(3);
    } finally {
      await store.close();
    }
    expect(stream.consumers()).toEqual([]);
  }, 15_000);

  it("a session whose playlist request waits for the first segments is not idle", async () => {
    const own = new Stream("demo3", ["demo:"], { graceMs: 10 });
    const store = new HlsSessionStore({ sessionTimeoutMs: 100, feedLingerMs: 0 });
    try {
      const s = await store.create(own, { format: "mpegts", medias: outputMedias(new URLSearchParams(""), TS_CODECS) });
      const pending = s.playlist(10_000); // a fresh feed: about 3 s until three segments are made
      await new Promise((r) => setTimeout(r, 50));
      store.sweep(Date.now() + 1_000);
      expect(store.get(s.sessionId)).toBe(s);
      expect(await pending).toContain(`segment.ts?id=${s.sessionId}&n=2`);
      store.sweep(Date.now() + 1_000); // answered: idle again
      expect(store.get(s.sessionId)).toBeUndefined();
    } finally {
      await store.close();
      await own.close();
    }
  }, 15_000);

  it("when the feed ends (stream deleted), its sessions end with it", async () => {
    const own = new Stream("demo2", ["demo:"], { graceMs: 10 });
    const store = new HlsSessionStore({ sessionTimeoutMs: 60_000 });
    try {
      const medias = outputMedias(new URLSearchParams(""), TS_CODECS);
      const a = await store.create(own, { format: "mpegts", medias });
      const b = await store.create(own, { format: "mpegts", medias });
      await own.close();
      await new Promise((r) => setTimeout(r, 20));
      expect(store.get(a.sessionId)).toBeUndefined();
      expect(store.get(b.sessionId)).toBeUndefined();
      expect(store.stats().feeds).toBe(0);
      expect(own.detached.size).toBe(0);
    } finally {
      await store.close();
      await own.close();
    }
  }, 15_000);

  it("closes sessions nobody asked for within the timeout", async () => {
    const store = new HlsSessionStore({ sessionTimeoutMs: 200 });
    try {
      const s = await store.create(stream, { format: "fmp4", medias: outputMedias(new URLSearchParams(""), TS_CODECS) });
      expect(store.size).toBe(1);
      store.sweep(Date.now() + 1_000);
      // The session is gone at once; its feed follows after the linger time (the timeout here).
      expect(store.size).toBe(0);
      await new Promise((r) => setTimeout(r, 400));
      expect(store.get(s.sessionId)).toBeUndefined();
      expect(stream.consumers()).toEqual([]);
      expect(await s.playlist(100)).toBeUndefined();
    } finally {
      await store.close();
    }
  }, 15_000);
});
