/**
 * HLS output: sessions that cut a stream into MPEG-TS or fMP4 segments held in memory (bounded), the
 * playlists that list them, and the store that expires idle sessions.
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
export { type HlsFormat, HlsSession, type HlsSessionOptions } from "./session.ts";
export { HlsLimitError, type HlsSessionRequest, HlsSessionStore, type HlsSessionStoreOptions } from "./session_store.ts";
