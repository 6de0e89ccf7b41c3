/**
 * Adaptive-bitrate HLS (`hls.variants`, and the go2rtc seed article's `edge.bandwidth` block):
 * `stream.m3u8` lists the demo's own 640x360 first, then each configured level below it; ffmpeg
 * (a real HLS client) reads a level's playlist and decodes its scaled H.264; the level's ffmpeg
 * starts only when a player asks for it and stops after the last player left. Levels at or above
 * the source are left out; a server without RTSP lists only the source.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { silentLogger } from "../../lib/core/log.ts";
import { type RunningServer, startServer } from "../../server/server.ts";
import { ffprobe } from "../_support/ffmpeg.ts";
import { freePort } from "../_support/net.ts";
import { waitFor } from "./_server.ts";

interface Entry {
  attrs: string;
  uri: string;
}

function entries(playlist: string): Entry[] {
  const lines = playlist.trim().split("\n");
  const out: Entry[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].startsWith("#EXT-X-STREAM-INF:")) out.push({ attrs: lines[i].slice(18), uri: lines[i + 1] });
  }
  return out;
}

async function start(config: Record<string, unknown>): Promise<RunningServer> {
  return await startServer({
    configSources: [JSON.stringify({ api: { listen: "127.0.0.1:0" }, ...config })],
    log: silentLogger,
    handleSignals: false,
  });
}

describe("adaptive-bitrate HLS (hls.variants)", () => {
  let server: RunningServer;
  let base = "";
  beforeAll(async () => {
    const port = await freePort();
    server = await start({
      rtsp: { listen: `127.0.0.1:${port}` },
      // 720p is above the demo's 360 lines: not listed. A cap below 240p's 400k holds it.
      hls: { variants: ["720p", "240p", "180"], max_bitrate: "300k", session_timeout: 5 },
      streams: { demo: "demo:", "odd name": "demo:" },
    });
    base = server.urls[0];
  }, 20_000);
  afterAll(async () => {
    await server?.close();
  });

  it("lists the source first, then the levels below it; ffmpeg decodes a level made on demand", async () => {
    const res = await fetch(`${base}/api/stream.m3u8?src=demo`);
    expect(res.status).toBe(200);
    const list = entries(await res.text());
    expect(list.length).toBe(3);
    expect(list[0].uri).toMatch(/^hls\/playlist\.m3u8\?id=/);
    expect(list[0].attrs).toContain("RESOLUTION=640x360");
    expect(list[1].uri).toMatch(/^hls\/variant\.m3u8\?id=[^&]+&v=240p$/);
    expect(list[1].attrs).toContain("RESOLUTION=426x240");
    expect(list[1].attrs).toContain("BANDWIDTH=300000");
    expect(list[2].attrs).toContain("RESOLUTION=320x180");
    // Nothing is made before a player asks for a level.
    expect(server.hub.get("demo~240p")).toBeUndefined();

    const probe = await ffprobe(`${base}/api/${list[1].uri}`, [], 60_000);
    const video = probe.streams.find((s) => s.codec_type === "video");
    expect(video).toMatchObject({ codec_name: "h264", height: 240 });
    expect(video!.width).toBe(426);
    expect(probe.streams.some((s) => s.codec_name === "aac")).toBe(true);
    // The level is an unlisted stream of its own with one ffmpeg source, shared by its players.
    expect(server.hub.get("demo~240p")).toBeDefined();
    expect(server.hub.names()).not.toContain("demo~240p");
    const info = server.hub.get("demo~240p")!.info();
    expect(info.sources).toEqual(["ffmpeg:demo#video=h264#width=-2#height=240#bitrate=300k#audio=copy"]);
  }, 90_000);

  it("an unknown level is a 404 naming the listed ones; one session per level; an unplain name gets no levels", async () => {
    const list = entries(await fetch(`${base}/api/stream.m3u8?src=demo`).then((r) => r.text()));
    const bad = await fetch(`${base}/api/${list[1].uri.replace("v=240p", "v=1080p")}`);
    expect(bad.status).toBe(404);
    expect(await bad.text()).toContain("lists 240p, 180p");
    // Two requests for a level at once share one session (one id in both playlists' segment URIs).
    const both = await Promise.all([1, 2].map(() => fetch(`${base}/api/${list[1].uri}`).then((r) => r.text())));
    const ids = both.map((text) => /segment\.ts\?id=([^&\s]+)/.exec(text)?.[1]);
    expect(ids[0]).toBeDefined();
    expect(ids[1]).toBe(ids[0]);
    const odd = await fetch(`${base}/api/stream.m3u8?src=${encodeURIComponent("odd name")}`).then((r) =>
      r.text()
    );
    expect(entries(odd).length).toBe(1);
    expect(odd).toContain("hls/playlist.m3u8?id=");
  }, 30_000);

  it("the level's ffmpeg stops after its last player left", async () => {
    const stream = server.hub.get("demo~240p")!;
    await waitFor(
      "the variant's source to stop",
      () => {
        const info = stream.info();
        // A stopped source has no connection (its ffmpeg) left.
        return info.consumers.length === 0 &&
          (info.producers as { state?: string; connection?: unknown }[]).every((p) =>
            p.state === "stopped" && !p.connection
          );
      },
      30_000,
    ).catch((e) => {
      console.log(JSON.stringify(stream.info()));
      throw e;
    });
  }, 40_000);
});

describe("the seed article's edge.bandwidth block, and a server without RTSP", () => {
  it("adaptive: true offers quality_levels; without rtsp.listen only the source is listed", async () => {
    const port = await freePort();
    const withRtsp = await start({
      rtsp: { listen: `127.0.0.1:${port}` },
      edge: { bandwidth: { adaptive: true, max_bitrate: "2M", quality_levels: ["240p", "480p", "720p"] } },
      streams: { demo: "demo:" },
    });
    try {
      const list = entries(await fetch(`${withRtsp.urls[0]}/api/stream.m3u8?src=demo`).then((r) => r.text()));
      expect(list.map((e) => /RESOLUTION=(\d+x\d+)/.exec(e.attrs)?.[1])).toEqual(["640x360", "426x240"]);
      expect(list[1].attrs).toContain("BANDWIDTH=400000");
    } finally {
      await withRtsp.close();
    }
    const noRtsp = await start({
      rtsp: { listen: "" },
      hls: { variants: ["240p"] },
      streams: { demo: "demo:" },
    });
    try {
      const text = await fetch(`${noRtsp.urls[0]}/api/stream.m3u8?src=demo`).then((r) => r.text());
      expect(entries(text).length).toBe(1);
    } finally {
      await noRtsp.close();
    }
  }, 60_000);
});
