/**
 * MPEG-TS: muxer (H.264, H.265, AAC, Opus) for `/api/stream.ts` and HLS, and a resynchronising
 * demuxer for MPEG-TS sources.
 *
 * @example
 * ```ts
 * import { TsDemuxer, TsMuxer } from "./lib/format/mpegts/mod.ts";
 * const demux = new TsDemuxer();
 * for (const { track, frame } of demux.push(chunk)) console.log(track.codec.name, frame.timestamp);
 * ```
 *
 * @module
 */
export { tsCanMux, TsCodecError, TsMuxer, type TsMuxerOptions, type TsTrackOptions } from "./ts_muxer.ts";
export { type TsDemuxedFrame, TsDemuxer, type TsDemuxerOptions, type TsTrack } from "./ts_demuxer.ts";
export {
  buildPatSection,
  buildPmtSection,
  findDescriptor,
  parsePatSection,
  parsePmtSection,
  type Pmt,
  type PmtStream,
  TsPsiError,
} from "./ts_psi.ts";
export {
  crc32Mpeg2,
  PesStreamId,
  readPesTimestamp,
  TS_PACKET_SIZE,
  TS_SYNC_BYTE,
  TsStreamType,
  writePesTimestamp,
} from "./ts_packet.ts";
