import { describe, expect, it } from "bun:test";
import { mediaPlaylist, multivariantPlaylist } from "./playlist.ts";

describe("HLS playlists", () => {
  it("multivariant playlist with and without CODECS", () => {
    expect(multivariantPlaylist("hls/playlist.m3u8?id=abc", "avc1.42c01e,mp4a.40.2")).toBe(
      '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=2000000,CODECS="avc1.42c01e,mp4a.40.2"\nhls/playlist.m3u8?id=abc\n',
    );
    expect(multivariantPlaylist("p.m3u8")).toBe("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=2000000\np.m3u8\n");
  });

  it("live media playlist: target duration rounds the longest segment up, no ENDLIST", () => {
    const text = mediaPlaylist({
      segments: [{ sequence: 7, duration: 1 }, { sequence: 8, duration: 1.84 }],
      segmentUri: (n) => `segment.ts?id=x&n=${n}`,
    });
    expect(text).toBe(
      "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:7\n" +
        "#EXTINF:1.000,\nsegment.ts?id=x&n=7\n#EXTINF:1.840,\nsegment.ts?id=x&n=8\n",
    );
  });

  it("fMP4 adds EXT-X-MAP and version 7", () => {
    const text = mediaPlaylist({ segments: [], segmentUri: String, initUri: "init.mp4?id=x" });
    expect(text).toContain("#EXT-X-VERSION:7\n");
    expect(text).toContain('#EXT-X-MAP:URI="init.mp4?id=x"\n');
  });

  it("a segment's programDateTime is its EXT-X-PROGRAM-DATE-TIME, in UTC with milliseconds", () => {
    const text = mediaPlaylist({
      segments: [{ sequence: 3, duration: 2, programDateTime: Date.UTC(2026, 11, 7, 23, 0, 1, 500) }],
      segmentUri: (n) => `s.ts?n=${n}`,
    });
    expect(text).toContain("#EXT-X-PROGRAM-DATE-TIME:2026-12-07T23:00:01.500Z\n#EXTINF:2.000,\ns.ts?n=3\n");
  });
});
