/**
 * HLS viewers share one muxer and one segment list per stream and container (issue 15): 20 sessions
 * of one stream show up in `/api/streams` as 20 viewers of one `hls-segmenter` consumer, which is the
 * only reader of the source's tracks; ffmpeg plays two sessions of that segmenter at once; the
 * segmenter leaves the stream once its sessions expired.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { hasTool } from "../_support/process.ts";
import { ffmpeg } from "../_support/ffmpeg.ts";
import { type OutputServer, startOutputServer, waitFor } from "./_server.ts";

const hasFfmpeg = await hasTool("ffmpeg");

interface ConsumerJson {
  id: number;
  format: string;
  protocol?: string;
  viewers?: number;
  feed?: number;
  bytesOut?: number;
}
interface StreamJson {
  producers: { tracks: { media: string; senders: number }[] }[];
  consumers: ConsumerJson[];
}

describe("HLS sessions share one segmenter per stream and container", () => {
  let s: OutputServer;

  beforeAll(async () => {
    s = await startOutputServer({ streams: { demo: "demo:" }, hls: { session_timeout: 5 } });
  }, 30_000);

  afterAll(async () => {
    await s?.close();
  }, 30_000);

  const streamInfo = async (): Promise<StreamJson> => await (await fetch(`${s.base}/api/streams?src=demo`)).json();
  const openSession = async (query = "src=demo"): Promise<string> => {
    const res = await fetch(`${s.base}/api/stream.m3u8?${query}`);
    expect(res.status).toBe(200);
    return /id=([a-z0-9]+)/.exec(await res.text())![1];
  };

  it("20 sessions: one hls-segmenter consumer with 20 viewers, one reader per source track", async () => {
    const ids = await Promise.all(Array.from({ length: 20 }, () => openSession()));
    expect(new Set(ids).size).toBe(20);
    const info = await streamInfo();
    const segmenters = info.consumers.filter((c) => c.format.startsWith("hls-segmenter/"));
    expect(segmenters.map((c) => [c.format, c.viewers])).toEqual([["hls-segmenter/mpegts", 20]]);
    const viewers = info.consumers.filter((c) => c.format === "hls/mpegts");
    expect(viewers.length).toBe(20);
    expect(viewers.every((v) => v.feed === segmenters[0].id)).toBe(true);
    // The source's video and audio each feed one sender (the segmenter), not twenty.
    const tracks = info.producers.flatMap((p) => p.tracks);
    expect(tracks.map((t) => [t.media, t.senders]).sort()).toEqual([["audio", 1], ["video", 1]]);

    // Every session lists the same segments under its own id.
    const [a, b] = await Promise.all(ids.slice(0, 2).map(async (id) => await (await fetch(`${s.base}/api/hls/playlist.m3u8?id=${id}`)).text()));
    expect(a).toBe(b.replaceAll(ids[1], ids[0]));
    const n = /segment\.ts\?id=[a-z0-9]+&n=(\d+)/.exec(a)![1];
    const bytes = await Promise.all(
      ids.slice(0, 2).map(async (id) => new Uint8Array(await (await fetch(`${s.base}/api/hls/segment.ts?id=${id}&n=${n}`)).arrayBuffer())),
    );
    expect(new TextDecoder().decode(bytes[0].subarray(0, 200))).not.toContain("message");
    expect(bytes[0].length).toBeGreaterThan(1000);
    expect(bytes[1]).toEqual(bytes[0]);
    const served = (await streamInfo()).consumers.filter((c) => c.id !== segmenters[0].id && (c.bytesOut ?? 0) > 0);
    expect(served.length).toBe(2);

    // A codec filter or the other container is another segmenter.
    await openSession("src=demo&mp4");
    await openSession("src=demo&video=h264");
    const formats = (await streamInfo()).consumers.filter((c) => c.format.startsWith("hls-segmenter/")).map((c) => c.format).sort();
    expect(formats).toEqual(["hls-segmenter/fmp4", "hls-segmenter/fmp4", "hls-segmenter/mpegts"]);
  }, 30_000);

  it.skipIf(!hasFfmpeg)("ffmpeg plays two sessions of one segmenter at the same time", async () => {
    const ids = [await openSession(), await openSession()];
    // framecrc: one stdout line per decoded video frame.
    const play = (id: string) =>
      ffmpeg(["-i", `${s.base}/api/hls/playlist.m3u8?id=${id}`, "-t", "3", "-map", "0:v", "-f", "framecrc", "-"], 30_000);
    const results = await Promise.all(ids.map(play));
    for (const res of results) {
      expect(res.timedOut).toBe(false);
      expect(res.stderr).toBe("");
      expect(res.code).toBe(0);
      const frames = new TextDecoder().decode(res.stdout).split("\n").filter((l) => /^0,/.test(l)).length;
      expect(frames).toBeGreaterThan(50); // 3 s at 25 fps
    }
    const segmenters = (await streamInfo()).consumers.filter((c) => c.format === "hls-segmenter/mpegts");
    expect(segmenters.length).toBe(1);
    expect(segmenters[0].viewers).toBeGreaterThanOrEqual(2);
  }, 40_000);

  it("once every session expired, the segmenters leave the stream", async () => {
    await waitFor(
      "HLS sessions and segmenters to be gone",
      async () => (await streamInfo()).consumers.filter((c) => c.format.startsWith("hls")).length === 0,
      15_000,
    );
  }, 20_000);
});
