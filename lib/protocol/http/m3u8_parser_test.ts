import { describe, expect, it } from "bun:test";
import { HlsPlaylistError, parseAttributes, parseM3u8 } from "./m3u8_parser.ts";

describe("parseM3u8", () => {
  it("a live media playlist as ffmpeg -f hls writes it, URIs resolved against the playlist", () => {
    const pl = parseM3u8(
      "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:7\n" +
        "#EXTINF:1.000000,\nseg7.ts\n#EXTINF:1.000000,\nseg8.ts\n",
      "http://cam/live/index.m3u8?token=1",
    );
    expect(pl).toEqual({
      kind: "media",
      targetDuration: 1,
      mediaSequence: 7,
      ended: false,
      segments: [
        { uri: "http://cam/live/seg7.ts", duration: 1, sequence: 7, discontinuity: false },
        { uri: "http://cam/live/seg8.ts", duration: 1, sequence: 8, discontinuity: false },
      ],
    });
  });

  it("fMP4: #EXT-X-MAP applies to the segments after it; discontinuities and ENDLIST are kept", () => {
    const pl = parseM3u8(
      '#EXTM3U\r\n#EXT-X-TARGETDURATION:2\r\n#EXT-X-MAP:URI="init.mp4"\r\n#EXTINF:2,\r\na.m4s\r\n' +
        "#EXT-X-DISCONTINUITY\r\n#EXTINF:2,\r\nhttp://other/b.m4s\r\n#EXT-X-ENDLIST\r\n",
      "https://h/x/pl.m3u8",
    );
    if (pl.kind !== "media") throw new Error("expected a media playlist");
    expect(pl.ended).toBe(true);
    expect(pl.segments.map((s) => [s.uri, s.map, s.discontinuity])).toEqual([
      ["https://h/x/a.m4s", "https://h/x/init.mp4", false],
      ["http://other/b.m4s", "https://h/x/init.mp4", true],
    ]);
  });

  it("a master playlist lists its variants", () => {
    const pl = parseM3u8(
      '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000,CODECS="avc1.4d401f,mp4a.40.2",RESOLUTION=640x360\nlow/index.m3u8\n' +
        "#EXT-X-STREAM-INF:BANDWIDTH=3000000\nhigh/index.m3u8\n",
      "http://cam/master.m3u8",
    );
    expect(pl).toEqual({
      kind: "master",
      variants: [
        {
          uri: "http://cam/low/index.m3u8",
          bandwidth: 800000,
          codecs: "avc1.4d401f,mp4a.40.2",
          resolution: "640x360",
        },
        { uri: "http://cam/high/index.m3u8", bandwidth: 3000000 },
      ],
    });
  });

  it("refuses what a pull cannot play, naming the line", () => {
    const bad = (text: string) => {
      try {
        parseM3u8(text, "http://x/");
      } catch (e) {
        expect(e).toBeInstanceOf(HlsPlaylistError);
        return (e as Error).message;
      }
      throw new Error("expected an error");
    };
    expect(bad("<html>")).toBe("Cannot use HLS playlist line 1: missing #EXTM3U");
    expect(bad('#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-KEY:METHOD=AES-128,URI="k"\n')).toContain(
      "line 3: encrypted segments (METHOD=AES-128) are not supported",
    );
    expect(bad("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-BYTERANGE:100@0\n")).toContain("byte-range");
    expect(bad("#EXTM3U\nseg.ts\n")).toContain('line 2: URI "seg.ts" without #EXTINF');
    expect(bad("#EXTM3U\n#EXT-X-TARGETDURATION:x\n")).toContain("bad target duration");
  });
});

describe("parseAttributes", () => {
  it("keeps commas inside quotes", () => {
    expect(parseAttributes('BANDWIDTH=1,CODECS="a,b",NAME=x')).toEqual({
      BANDWIDTH: "1",
      CODECS: "a,b",
      NAME: "x",
    });
  });
});
