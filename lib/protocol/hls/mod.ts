/**
 * HLS output: feeds that mux a stream once into MPEG-TS or fMP4 segments held in memory (bounded),
 * the sessions (one per viewer) that share them, the playlists that list them, and the store that
 * expires idle sessions and drops feeds nobody reads.
 *
 * @example
 * ```ts
 * import { HlsSessionStore, multivariantPlaylist } from "./lib/protocol/hls/mod.ts";
 * const store = new HlsSessionStore({ maxSessions: 20 });
 * const s = await store.create(stream, { format: "mpegts", medias });
 * const master = multivariantPlaylist(`hls/playlist.m3u8?id=${s.sessionId}`);
 * ```
 *
 * @module
 */
export { mediaPlaylist, type MediaPlaylistOptions, multivariantPlaylist, type PlaylistSegment } from "./playlist.ts";
export { type HlsSegment, HlsSegmenter, type HlsSegmenterOptions, LIVE_PLAYLIST_MIN_SEGMENTS } from "./segmenter.ts";
export { HlsFeed, type HlsFeedInfo, type HlsFeedOptions, type HlsFormat } from "./feed.ts";
export { HlsSession, type HlsSessionOptions } from "./session.ts";
export {
  HlsLimitError,
  type HlsSessionRequest,
  HlsSessionStore,
  type HlsSessionStoreOptions,
  type HlsStoreStats,
} from "./session_store.ts";
