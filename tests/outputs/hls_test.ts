/**
 * HLS end to end: ffmpeg plays `/api/stream.m3u8` (MPEG-TS and fMP4 variants) from a real server;
 * the playlists follow RFC 8216; sessions expire after `hls.session_timeout` and release their
 * viewer; `hls.max_sessions` refuses the session too many.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { ffmpeg } from "../_support/ffmpeg.ts";
import type { StreamHub } from "../../lib/core/hub.ts";
import { consumerCount, type OutputServer, probeBytes, startOutputServer, waitFor } from "./_server.ts";

const formats = (hub: StreamHub, name: string) =>
  (hub.get(name)!.info().consumers as { format: string }[]).map((c) => c.format).sort();

describe("HLS output", () => {
  let s: OutputServer;

  beforeAll(async () => {
    s = await startOutputServer({
      streams: { demo: "demo:" },
    });
  }, 30_000);

  afterAll(async () => {
    await s?.close();
  }, 30_000);

  const play = async (url: string) => {
    const res = await ffmpeg(["-i", url, "-t", "3", "-f", "null", "-"], 30_000);
    expect(res.timedOut).toBe(false);
    expect(res.code).toBe(0);
    return res;
  };

  it("ffmpeg plays the MPEG-TS variant", async () => {
    const res = await play(`${s.base}/api/stream.m3u8?src=demo`);
    expect(res.stderr).toBe("");
  }, 30_000);

  it("ffmpeg plays the fMP4 variant (?mp4)", async () => {
    const res = await play(`${s.base}/api/stream.m3u8?src=demo&mp4`);
    // ffmpeg 5/6 re-reads the init segment after each live playlist reload and says so; nothing else.
    const lines = res.stderr.split("\n").filter((l) => l.trim() && !/duplicated MOOV|Last message repeated/.test(l));
    expect(lines).toEqual([]);
  }, 30_000);

  it("serves a multivariant playlist, a live media playlist and decodable segments", async () => {
    const master = await fetch(`${s.base}/api/stream.m3u8?src=demo`);
    expect(master.status).toBe(200);
    expect(master.headers.get("content-type")).toBe("application/vnd.apple.mpegurl");
    const text = await master.text();
    expect(text.startsWith("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=")).toBe(true);
    const uri = text.trim().split("\n").pop()!;
    expect(uri).toMatch(/^hls\/playlist\.m3u8\?id=[a-z0-9]{12}$/);

    const media = await (await fetch(new URL(uri, `${s.base}/api/stream.m3u8`))).text();
    expect(media).toContain("#EXT-X-TARGETDURATION:");
    // Sessions share the stream's segments: an earlier viewer's feed may have made some already.
    expect(media).toMatch(/#EXT-X-MEDIA-SEQUENCE:\d+\n/);
    expect(media).not.toContain("#EXT-X-ENDLIST");
    const segUri = media.split("\n").find((l) => l.startsWith("segment.ts?"))!;
    const seg = await fetch(new URL(segUri, `${s.base}/api/hls/playlist.m3u8`));
    expect(seg.headers.get("content-type")).toBe("video/mp2t");
    const probe = await probeBytes(new Uint8Array(await seg.arrayBuffer()), "mpegts");
    expect(probe.stderr).toBe("");
    expect(probe.streams.map((x) => x.codec_name).sort()).toEqual(["aac", "h264"]);
    // Segments are cut at keyframes about a second apart (the demo has one keyframe per second).
    const durations = [...media.matchAll(/#EXTINF:([\d.]+),/g)].map((m) => Number(m[1]));
    for (const d of durations) {
      expect(d).toBeGreaterThanOrEqual(0.9);
      expect(d).toBeLessThanOrEqual(2.1);
    }
    // Each segment is dated (EXT-X-PROGRAM-DATE-TIME, before its EXTINF): recent, and one segment's
    // date plus its duration is the next one's (the dates follow the media's timeline).
    const dated = [...media.matchAll(/#EXT-X-PROGRAM-DATE-TIME:(\S+)\n#EXTINF:([\d.]+),/g)].map((m) => ({ at: Date.parse(m[1]), duration: Number(m[2]) }));
    expect(dated.length).toBe(durations.length);
    for (const [i, d] of dated.entries()) {
      expect(Math.abs(Date.now() - d.at)).toBeLessThan(60_000);
      if (i > 0) expect(Math.abs(d.at - (dated[i - 1].at + dated[i - 1].duration * 1000))).toBeLessThanOrEqual(2);
    }
  }, 20_000);

  it("fMP4 sessions serve init.mp4 and .m4s segments that decode together", async () => {
    const master = await (await fetch(`${s.base}/api/stream.m3u8?src=demo&mp4`)).text();
    expect(master).toContain('CODECS="avc1.42c01e,mp4a.40.2"');
    const id = /id=([a-z0-9]+)/.exec(master)![1];
    const media = await (await fetch(`${s.base}/api/hls/playlist.m3u8?id=${id}`)).text();
    expect(media).toContain("#EXT-X-VERSION:7");
    expect(media).toContain(`#EXT-X-MAP:URI="init.mp4?id=${id}"`);
    const init = new Uint8Array(await (await fetch(`${s.base}/api/hls/init.mp4?id=${id}`)).arrayBuffer());
    const n = /segment\.m4s\?id=[a-z0-9]+&n=(\d+)/.exec(media)![1];
    const seg = new Uint8Array(await (await fetch(`${s.base}/api/hls/segment.m4s?id=${id}&n=${n}`)).arrayBuffer());
    const whole = new Uint8Array(init.length + seg.length);
    whole.set(init);
    whole.set(seg, init.length);
    const probe = await probeBytes(whole);
    expect(probe.stderr).toBe("");
    expect(probe.streams.every((x) => Number(x.nb_read_frames) > 0)).toBe(true);
  }, 20_000);

  it("answers 404 for an unknown session, 400 for a segment of the wrong kind", async () => {
    const res = await fetch(`${s.base}/api/hls/playlist.m3u8?id=nosuchsession`);
    expect(res.status).toBe(404);
    expect((await res.json()).message).toContain("nosuchsession");
    const master = await (await fetch(`${s.base}/api/stream.m3u8?src=demo`)).text();
    const id = /id=([a-z0-9]+)/.exec(master)![1];
    expect((await fetch(`${s.base}/api/hls/init.mp4?id=${id}`)).status).toBe(400);
    expect((await fetch(`${s.base}/api/hls/segment.m4s?id=${id}&n=0`)).status).toBe(400);
  }, 20_000);
});

describe("HLS session limits", () => {
  let s: OutputServer;

  beforeAll(async () => {
    s = await startOutputServer({ streams: { demo: "demo:" }, hls: { session_timeout: 1, max_sessions: 3 } });
  }, 30_000);

  afterAll(async () => {
    await s?.close();
  }, 30_000);

  it("expires idle sessions and refuses sessions beyond hls.max_sessions", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${s.base}/api/stream.m3u8?src=demo`);
      expect(res.status).toBe(200);
      ids.push(/id=([a-z0-9]+)/.exec(await res.text())![1]);
    }
    // Three viewers listed, reading one shared segmenter.
    expect(formats(s.hub, "demo")).toEqual(["hls-segmenter/mpegts", "hls/mpegts", "hls/mpegts", "hls/mpegts"]);
    const refused = await fetch(`${s.base}/api/stream.m3u8?src=demo`);
    expect(refused.status).toBe(503);
    expect((await refused.json()).message).toContain("hls.max_sessions");
    // Nobody asks for these sessions: they close, their viewers leave the stream, and the segmenter
    // follows them (session_timeout 1 s, then a linger of at most the same).
    await waitFor("idle sessions to expire", () => consumerCount(s.hub, "demo") === 0, 10_000);
    expect((await fetch(`${s.base}/api/hls/playlist.m3u8?id=${ids[0]}`)).status).toBe(404);
  }, 30_000);
});
