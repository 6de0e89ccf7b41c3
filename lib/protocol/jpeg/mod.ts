/**
 * JPEG outputs: one-shot snapshots of H.264/H.265 keyframes and a streaming MJPEG transcoder, both
 * through ffmpeg (the transcoder shared by every viewer with the same picture options), plus a small
 * cache of recent snapshots.
 *
 * @example
 * ```ts
 * import { encodeJpeg } from "./lib/protocol/jpeg/mod.ts";
 * const cached = stream.cachedKeyframe();
 * if (cached) await encodeJpeg(cached.codec, cached.frame, { width: 640 });
 * ```
 *
 * @module
 */
export { frameToAnnexb, rawDemuxerOf } from "./annexb_frame.ts";
export { JpegEncodeError, type JpegErrorCode } from "./errors.ts";
export { jpegFfmpegArgs, jpegFilter, type JpegPictureOptions, jpegPictureOptions } from "./ffmpeg_args.ts";
export { encodeJpeg, type EncodeJpegOptions } from "./snapshot.ts";
export { type CachedJpeg, JpegSnapshotCache } from "./snapshot_cache.ts";
export {
  MjpegFeed,
  type MjpegFeedInfo,
  type MjpegFeedOptions,
  MjpegFeeds,
  type MjpegFeedsOptions,
  MjpegViewer,
  type MjpegViewerSink,
} from "./shared_transcoder.ts";
export { MjpegTranscoder, type MjpegTranscoderOptions } from "./transcoder.ts";
