/**
 * FLV: muxer for `/api/stream.flv` and RTMP, demuxer for HTTP-FLV sources (its `pushTag` also
 * parses RTMP media messages), and AMF0 for script data and RTMP commands.
 *
 * @example
 * ```ts
 * import { FlvMuxer } from "./lib/format/flv/mod.ts";
 * const flv = new FlvMuxer([{ codec: h264 }, { codec: aac }]);
 * const bytes = flv.push(0, frame);
 * ```
 *
 * @module
 */
export { Amf0EcmaArray, Amf0Error, type Amf0Value, decodeAmf0, decodeAmf0Value, encodeAmf0 } from "./amf0.ts";
export { flvCanMux, FlvCodecError, FlvMuxer, type FlvMuxerOptions } from "./flv_muxer.ts";
export { type FlvDemuxedFrame, FlvDemuxer, type FlvDemuxerOptions, type FlvTrack } from "./flv_demuxer.ts";
export {
  allocFlvTag,
  buildFlvTag,
  FLV_TAG_HEADER_SIZE,
  FlvExVideoPacket,
  flvFileHeader,
  FlvSoundFormat,
  FlvTagType,
  type FlvTagView,
  FlvVideoCodec,
  readFlvTags,
  writeFlvTagHeader,
} from "./flv_tag.ts";
