/**
 * HLS playlist parser (RFC 8216) for pulling HLS as a source: master playlists (variants) and media
 * playlists (segments, init map, end). URIs are resolved against the playlist's URL.
 *
 * Only what a live pull needs is kept. Encrypted segments (`EXT-X-KEY` other than `NONE`) and byte
 * ranges are refused with a clear error, since strom cannot play them.
 *
 * @module
 */

/** A playlist that cannot be used, with the line it failed on. */
export class HlsPlaylistError extends SyntaxError {
  override name = "HlsPlaylistError";
  /** 1-based line number, 0 when the whole playlist is at fault. */
  readonly line: number;
  constructor(line: number, message: string) {
    super(line ? `Cannot use HLS playlist line ${line}: ${message}` : `Cannot use HLS playlist: ${message}`);
    this.line = line;
  }
}

/** One variant stream of a master playlist (`#EXT-X-STREAM-INF`). */
export interface HlsVariant {
  uri: string;
  bandwidth: number;
  codecs?: string;
  resolution?: string;
}

/** One media segment. */
export interface HlsSegment {
  uri: string;
  /** `#EXTINF` duration in seconds. */
  duration: number;
  /** Media sequence number. */
  sequence: number;
  /** `#EXT-X-DISCONTINUITY` before this segment. */
  discontinuity: boolean;
  /** The `#EXT-X-MAP` init segment in force (fMP4), resolved. */
  map?: string;
}

/** A master playlist. */
export interface HlsMasterPlaylist {
  kind: "master";
  variants: HlsVariant[];
}

/** A media playlist. */
export interface HlsMediaPlaylist {
  kind: "media";
  targetDuration: number;
  mediaSequence: number;
  segments: HlsSegment[];
  /** `#EXT-X-ENDLIST`: no more segments will be added. */
  ended: boolean;
}

/**
 * Parses an attribute list: `BANDWIDTH=800000,CODECS="avc1.4d401f,mp4a.40.2"`.
 *
 * @example
 * ```ts
 * parseAttributes('URI="init.mp4",BYTERANGE="720@0"'); // { URI: "init.mp4", BYTERANGE: "720@0" }
 * ```
 */
export function parseAttributes(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([A-Z0-9-]+)=("[^"]*"|[^,]*)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    const v = m[2];
    out[m[1]] = v.startsWith('"') ? v.slice(1, -1) : v.trim();
  }
  return out;
}

function resolve(uri: string, base: string): string {
  return new URL(uri, base).href;
}

/**
 * Parses a playlist.
 *
 * @throws {HlsPlaylistError} when `#EXTM3U` is missing, a tag is malformed, or the playlist uses
 *   encryption or byte ranges.
 * @example
 * ```ts
 * const pl = parseM3u8("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nseg0.ts\n", "http://cam/live.m3u8");
 * if (pl.kind === "media") pl.segments[0].uri; // "http://cam/seg0.ts"
 * ```
 */
export function parseM3u8(text: string, baseUrl: string): HlsMasterPlaylist | HlsMediaPlaylist {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  if (!lines[0]?.trim().startsWith("#EXTM3U")) throw new HlsPlaylistError(1, "missing #EXTM3U");
  const variants: HlsVariant[] = [];
  const segments: HlsSegment[] = [];
  let targetDuration = 0;
  let mediaSequence = 0;
  let ended = false;
  let duration = -1;
  let discontinuity = false;
  let map: string | undefined;
  let pendingVariant: Omit<HlsVariant, "uri"> | undefined;
  let isMedia = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i].trim();
    const n = i + 1;
    if (!line) continue;
    if (line.startsWith("#")) {
      const colon = line.indexOf(":");
      const tag = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1);
      switch (tag) {
        case "#EXT-X-STREAM-INF": {
          const a = parseAttributes(value);
          pendingVariant = { bandwidth: Number(a.BANDWIDTH ?? a["AVERAGE-BANDWIDTH"] ?? 0) || 0 };
          if (a.CODECS) pendingVariant.codecs = a.CODECS;
          if (a.RESOLUTION) pendingVariant.resolution = a.RESOLUTION;
          break;
        }
        case "#EXT-X-TARGETDURATION":
          isMedia = true;
          targetDuration = Number(value);
          if (!(targetDuration > 0)) throw new HlsPlaylistError(n, `bad target duration "${value}"`);
          break;
        case "#EXT-X-MEDIA-SEQUENCE":
          mediaSequence = Number(value);
          if (!Number.isInteger(mediaSequence) || mediaSequence < 0) {
            throw new HlsPlaylistError(n, `bad media sequence "${value}"`);
          }
          break;
        case "#EXTINF":
          isMedia = true;
          duration = Number(value.split(",")[0]);
          if (!(duration >= 0)) throw new HlsPlaylistError(n, `bad segment duration "${value}"`);
          break;
        case "#EXT-X-DISCONTINUITY":
          discontinuity = true;
          break;
        case "#EXT-X-ENDLIST":
          ended = true;
          break;
        case "#EXT-X-MAP": {
          const a = parseAttributes(value);
          if (!a.URI) throw new HlsPlaylistError(n, "#EXT-X-MAP without URI");
          if (a.BYTERANGE) throw new HlsPlaylistError(n, "byte-range init segments are not supported");
          map = resolve(a.URI, baseUrl);
          break;
        }
        case "#EXT-X-KEY": {
          const method = parseAttributes(value).METHOD ?? "NONE";
          if (method !== "NONE") {
            throw new HlsPlaylistError(n, `encrypted segments (METHOD=${method}) are not supported`);
          }
          break;
        }
        case "#EXT-X-BYTERANGE":
          throw new HlsPlaylistError(n, "byte-range segments are not supported");
        default:
          break; // other tags do not change what a pull does
      }
      continue;
    }
    // A URI line.
    if (pendingVariant) {
      variants.push({ uri: resolve(line, baseUrl), ...pendingVariant });
      pendingVariant = undefined;
      continue;
    }
    if (duration < 0) throw new HlsPlaylistError(n, `URI "${line}" without #EXTINF or #EXT-X-STREAM-INF`);
    segments.push({
      uri: resolve(line, baseUrl),
      duration,
      sequence: mediaSequence + segments.length,
      discontinuity,
      ...(map ? { map } : {}),
    });
    duration = -1;
    discontinuity = false;
  }
  if (variants.length && !isMedia) return { kind: "master", variants };
  if (!isMedia && !segments.length) throw new HlsPlaylistError(0, "neither variants nor segments");
  return { kind: "media", targetDuration: targetDuration || 2, mediaSequence, segments, ended };
}
