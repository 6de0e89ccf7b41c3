import { describe, expect, it } from "bun:test";
import {
  abrPlaylist,
  HlsVariantError,
  parseHlsVariant,
  planHlsVariants,
  variantBitrate,
  variantSafeName,
  variantSource,
} from "./variants.ts";

describe("HLS variants (adaptive bitrate)", () => {
  it("reads levels as 480p, 480 or a number; refuses the rest naming the form", () => {
    expect(parseHlsVariant("480p")).toBe(480);
    expect(parseHlsVariant("720P")).toBe(720);
    expect(parseHlsVariant(" 240 ")).toBe(240);
    expect(parseHlsVariant(1080)).toBe(1080);
    for (const bad of ["fast", "480i", "0p", "143", "481", "5000p", "", "-240"]) {
      expect(() => parseHlsVariant(bad)).toThrow(HlsVariantError);
    }
    expect(() => parseHlsVariant("hd")).toThrow(/"hd" is not a picture height: write it as "480p" or 480/);
  });

  it("bit rates by height: the ladder's, between them by area, the ends held", () => {
    expect(variantBitrate(240)).toBe(400_000);
    expect(variantBitrate(720)).toBe(3_000_000);
    expect(variantBitrate(144)).toBe(200_000);
    expect(variantBitrate(100)).toBe(200_000);
    const between = variantBitrate(600);
    expect(between).toBeGreaterThan(2_000_000);
    expect(between).toBeLessThan(3_000_000);
    expect(variantBitrate(8000)).toBe(50_000_000);
  });

  it("plans only levels below the source, highest first, deduplicated, capped", () => {
    expect(planHlsVariants(["240p", "720p", "480p", 480], 720)).toEqual([
      { name: "480p", height: 480, bitrate: 1_200_000 },
      { name: "240p", height: 240, bitrate: 400_000 },
    ]);
    expect(planHlsVariants(["480p", "240p"], 720, 1_000_000).map((v) => v.bitrate)).toEqual([
      1_000_000,
      400_000,
    ]);
    expect(planHlsVariants(["720p", "1080p"], 720)).toEqual([]);
    expect(() => planHlsVariants(["480p", "big"], 720)).toThrow(HlsVariantError);
  });

  it("the source of a level reads the stream by name, scales to an even width, holds the rate, copies audio", () => {
    expect(variantSource("cam", { name: "480p", height: 480, bitrate: 1_200_000 })).toBe(
      "ffmpeg:cam#video=h264#width=-2#height=480#bitrate=1200k#audio=copy",
    );
  });

  it("only plain stream names go into an ffmpeg source", () => {
    for (const ok of ["cam", "front_door", "cam-1.main", "a~b"]) expect(variantSafeName(ok)).toBe(true);
    for (
      const bad of [
        "",
        "two words",
        "cam#raw=-f lavfi",
        "rtsp://10.0.0.5/live",
        "../etc",
        "кам",
        "a,b",
        "x".repeat(201),
      ]
    ) {
      expect(variantSafeName(bad)).toBe(false);
    }
  });

  it("writes the playlist with the source first, resolutions and codecs where known", () => {
    expect(abrPlaylist(
      {
        uri: "hls/playlist.m3u8?id=a",
        bandwidth: 3_000_000,
        codecs: "avc1.64001f",
        width: 1280,
        height: 720,
      },
      [{ uri: "hls/variant.m3u8?id=a&v=480p", bandwidth: 1_200_000, width: 854, height: 480 }],
    )).toBe(
      "#EXTM3U\n" +
        '#EXT-X-STREAM-INF:BANDWIDTH=3000000,RESOLUTION=1280x720,CODECS="avc1.64001f"\nhls/playlist.m3u8?id=a\n' +
        "#EXT-X-STREAM-INF:BANDWIDTH=1200000,RESOLUTION=854x480\nhls/variant.m3u8?id=a&v=480p\n",
    );
  });
});
