/**
 * MP4 (ISO BMFF): fragmented MP4 for MSE/HLS/streaming, progressive MP4 for files, the decoder
 * configuration records shared with FLV, and a FLAC encoder that makes G.711 playable in MP4.
 *
 * @example
 * ```ts
 * import { Mp4Muxer } from "./lib/format/mp4/mod.ts";
 * const mux = new Mp4Muxer([{ codec: h264 }, { codec: pcma }]);
 * const fragment = mux.push(0, frame);
 * if (fragment) { if (mux.needsInit) send(mux.init()); send(fragment); }
 * ```
 *
 * @module
 */
export { Mp4Muxer, type Mp4MuxerOptions, Mp4NotReadyError } from "./mp4_muxer.ts";
export {
  Mp4EmptyError,
  type Mp4FileResult,
  Mp4FileWriter,
  type Mp4FileWriterOptions,
} from "./mp4_file_writer.ts";
export { mp4CanMux, Mp4CodecError, Mp4Track, type Mp4TrackOptions } from "./mp4_track.ts";
export { FlacEncoder, type FlacEncoderOptions } from "./flac_encoder.ts";
export {
  type AvcDecoderConfig,
  buildAvcDecoderConfig,
  DecoderConfigError,
  parseAvcDecoderConfig,
} from "./avc_decoder_config.ts";
export {
  buildHevcDecoderConfig,
  type HevcDecoderConfig,
  HevcNalType,
  parseHevcDecoderConfig,
} from "./hevc_decoder_config.ts";
export { BoxWriter, findBox, findBoxes, type Mp4Box, Mp4BoxError, readBoxes } from "./mp4_box.ts";
export { MediaTimeline, type MediaTimelineOptions } from "./media_timeline.ts";
export { VideoParameterSets } from "./video_parameter_sets.ts";
