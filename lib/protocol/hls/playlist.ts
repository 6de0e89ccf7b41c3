/**
 * HLS playlists (RFC 8216): the multivariant playlist `/api/stream.m3u8` answers with, pointing at
 * a session's media playlist, and the live media playlist itself.
 *
 * @module
 */

/**
 * The multivariant ("master") playlist with one variant (RFC 8216 section 4.3.4.2).
 *
 * @example
 * ```ts
 * multivariantPlaylist("hls/playlist.m3u8?id=abc", "avc1.42c01e,mp4a.40.2");
 * // #EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=2000000,CODECS="avc1.42c01e,mp4a.40.2"\nhls/playlist.m3u8?id=abc\n
 * ```
 */
export function multivariantPlaylist(mediaUri: string, codecs?: string, bandwidth = 2_000_000): string {
  const attrs = [`BANDWIDTH=${bandwidth}`];
  if (codecs) attrs.push(`CODECS="${codecs}"`);
  return `#EXTM3U\n#EXT-X-STREAM-INF:${attrs.join(",")}\n${mediaUri}\n`;
}

/** A segment as listed in a media playlist. */
export interface PlaylistSegment {
  sequence: number;
  /** Seconds. */
  duration: number;
  /** ms since the epoch: written as `EXT-X-PROGRAM-DATE-TIME` (RFC 8216 section 4.3.2.6) when set. */
  programDateTime?: number;
}

/** What {@link mediaPlaylist} needs. */
export interface MediaPlaylistOptions {
  segments: readonly PlaylistSegment[];
  /** URI of a segment by sequence number. */
  segmentUri: (sequence: number) => string;
  /** fMP4: URI of the init segment (`EXT-X-MAP`). */
  initUri?: string;
  /** Lower bound of `EXT-X-TARGETDURATION` in seconds. */
  minTargetDuration?: number;
}

/**
 * A live media playlist (no `EXT-X-ENDLIST`). `EXT-X-TARGETDURATION` is the longest segment rounded
 * up (RFC 8216 section 4.3.3.1); version 7 when an init segment is used (section 7). Segments with a
 * `programDateTime` get an `EXT-X-PROGRAM-DATE-TIME` line (ISO 8601 in UTC, milliseconds).
 *
 * @example
 * ```ts
 * mediaPlaylist({ segments: [{ sequence: 4, duration: 1.0 }], segmentUri: (n) => `segment.ts?id=abc&n=${n}` });
 * ```
 */
export function mediaPlaylist(o: MediaPlaylistOptions): string {
  let target = o.minTargetDuration ?? 1;
  for (const s of o.segments) target = Math.max(target, Math.ceil(s.duration));
  const lines = [
    "#EXTM3U",
    `#EXT-X-VERSION:${o.initUri ? 7 : 3}`,
    `#EXT-X-TARGETDURATION:${target}`,
    `#EXT-X-MEDIA-SEQUENCE:${o.segments[0]?.sequence ?? 0}`,
  ];
  if (o.initUri) lines.push(`#EXT-X-MAP:URI="${o.initUri}"`);
  for (const s of o.segments) {
    if (s.programDateTime !== undefined) lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(s.programDateTime).toISOString()}`);
    lines.push(`#EXTINF:${s.duration.toFixed(3)},`, o.segmentUri(s.sequence));
  }
  return lines.join("\n") + "\n";
}
