/**
 * Adaptive-bitrate HLS: the lower-resolution versions of a stream listed next to the camera's own
 * in the multivariant playlist (`hls.variants`, or the go2rtc seed article's `edge.bandwidth`
 * `quality_levels`), so a player on a slow link switches down instead of stalling. Each version is
 * made by one ffmpeg per stream and level (H.264, scaled to the level's height, aspect kept), only
 * while a player reads it. This module is the plan: which levels, at which bit rates, in which
 * order; the server makes the streams.
 *
 * @module
 */

/** One level of the ladder. */
export interface HlsVariant {
  /** As configured and in URLs: `480p`. */
  name: string;
  /** Picture height in pixels (the width follows the source's aspect, rounded to even). */
  height: number;
  /** Video bit rate the encoder is held to, bits per second. */
  bitrate: number;
}

/** A configured level that does not read. */
export class HlsVariantError extends Error {
  override name = "HlsVariantError";
  readonly value: string;
  constructor(value: string) {
    super(
      `HLS variant "${value}" is not a picture height: write it as "480p" or 480 (an even number of ` +
        `lines from 144 to 4320)`,
    );
    this.value = value;
  }
}

/** Bit rates for common heights (H.264 at 25-30 fps, close to Apple's HLS authoring ladder). */
const LADDER: readonly [number, number][] = [
  [144, 200_000],
  [240, 400_000],
  [360, 800_000],
  [480, 1_200_000],
  [540, 2_000_000],
  [720, 3_000_000],
  [1080, 6_000_000],
  [1440, 10_000_000],
  [2160, 16_000_000],
  [4320, 50_000_000],
];

/**
 * Reads a level: `"480p"`, `"480"` or `480`.
 *
 * @throws {HlsVariantError} anything else, or a height that is odd or out of 144-4320.
 * @example
 * ```ts
 * parseHlsVariant("720p"); // 720
 * ```
 */
export function parseHlsVariant(value: string | number): number {
  const text = String(value).trim();
  const m = /^(\d+)p?$/i.exec(text);
  const height = m ? Number(m[1]) : NaN;
  if (!(height >= 144 && height <= 4320) || height % 2 !== 0) throw new HlsVariantError(text);
  return height;
}

/**
 * The bit rate of a level by its height: from the ladder above, in between by picture area.
 *
 * @example
 * ```ts
 * variantBitrate(480); // 1200000
 * ```
 */
export function variantBitrate(height: number): number {
  for (let i = 0; i < LADDER.length; i++) {
    const [h, rate] = LADDER[i];
    if (height === h) return rate;
    if (height < h) {
      if (i === 0) return rate;
      const [h0, r0] = LADDER[i - 1];
      const f = (height * height - h0 * h0) / (h * h - h0 * h0);
      return Math.round((r0 + f * (rate - r0)) / 1000) * 1000;
    }
  }
  return LADDER[LADDER.length - 1][1];
}

/**
 * The levels to list for a source `sourceHeight` lines high: only those below it (the source
 * itself is the top level, passed through; scaling up would cost CPU for no picture), highest
 * first, duplicates dropped, each bit rate capped at `maxBitrate` when it is set.
 *
 * @throws {HlsVariantError} a level that does not read.
 * @example
 * ```ts
 * planHlsVariants(["240p", "720p", "480p"], 720, 1_000_000);
 * // [{ name: "480p", height: 480, bitrate: 1000000 }, { name: "240p", height: 240, bitrate: 400000 }]
 * ```
 */
export function planHlsVariants(
  levels: readonly (string | number)[],
  sourceHeight: number,
  maxBitrate?: number,
): HlsVariant[] {
  const heights = [...new Set(levels.map(parseHlsVariant))].filter((h) => h < sourceHeight).sort((a, b) =>
    b - a
  );
  return heights.map((height) => {
    const rate = variantBitrate(height);
    return {
      name: `${height}p`,
      height,
      bitrate: maxBitrate && maxBitrate > 0 ? Math.min(rate, maxBitrate) : rate,
    };
  });
}

/**
 * The `ffmpeg:` source that makes `variant` of the stream `streamName` (read back from strom's
 * RTSP server): libx264 scaled to the level's height with an even width, its bit rate held, audio
 * copied.
 *
 * @example
 * ```ts
 * variantSource("cam", { name: "480p", height: 480, bitrate: 1_200_000 });
 * // "ffmpeg:cam#video=h264#width=-2#height=480#bitrate=1200k#audio=copy"
 * ```
 */
export function variantSource(streamName: string, variant: HlsVariant): string {
  const kbps = Math.max(1, Math.round(variant.bitrate / 1000));
  return `ffmpeg:${streamName}#video=h264#width=-2#height=${variant.height}#bitrate=${kbps}k#audio=copy`;
}

/**
 * Whether a stream name may be put into an `ffmpeg:` source as it is: letters, digits and `_.~-`
 * only. Anything else (a `#`, a space, a URL used as a stream name) could change what ffmpeg is
 * told to read, so such streams get no variants.
 *
 * @example
 * ```ts
 * variantSafeName("front_door"); // true
 * variantSafeName("rtsp://10.0.0.5/live"); // false
 * ```
 */
export function variantSafeName(streamName: string): boolean {
  return /^[A-Za-z0-9_.~-]{1,200}$/.test(streamName);
}

/**
 * The multivariant playlist of a stream with variants: the source first (players start on the
 * first entry), then each variant with its resolution when known.
 *
 * @example
 * ```ts
 * abrPlaylist({ uri: "hls/playlist.m3u8?id=a", bandwidth: 4e6, codecs: "avc1.640028" }, [
 *   { uri: "hls/variant.m3u8?id=a&v=480p", bandwidth: 1.2e6, width: 854, height: 480 },
 * ]);
 * ```
 */
export function abrPlaylist(
  source: { uri: string; bandwidth: number; codecs?: string; width?: number; height?: number },
  variants: readonly { uri: string; bandwidth: number; width?: number; height: number }[],
): string {
  const entry = (e: { uri: string; bandwidth: number; codecs?: string; width?: number; height?: number }) => {
    const attrs = [`BANDWIDTH=${Math.round(e.bandwidth)}`];
    if (e.width && e.height) attrs.push(`RESOLUTION=${e.width}x${e.height}`);
    if (e.codecs) attrs.push(`CODECS="${e.codecs}"`);
    return `#EXT-X-STREAM-INF:${attrs.join(",")}\n${e.uri}\n`;
  };
  return `#EXTM3U\n${entry(source)}${variants.map(entry).join("")}`;
}
