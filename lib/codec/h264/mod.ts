/**
 * H.264 / AVC: NAL unit types, SPS parsing, codec strings, SDP fmtp, keyframe detection and RTP
 * (RFC 6184) depacketizing and packetizing. AVCC/Annex-B framing is re-exported from `../annexb`.
 *
 * @module
 */
export { annexbToAvcc, avccToAnnexb, splitAnnexb } from "../annexb/annexb.ts";
export { joinAvcc, splitAvcc } from "../annexb/avcc.ts";
export { NalFramingError } from "../annexb/nal_framing_error.ts";
export { BitReader, BitstreamError } from "./bit_reader.ts";
export { H264Depacketizer, type H264DepacketizerOptions } from "./depacketizer.ts";
export {
  buildH264Fmtp,
  buildSpropParameterSets,
  h264ParameterSetsFromFmtp,
  parseSpropParameterSets,
} from "./fmtp.ts";
export { isH264Keyframe } from "./keyframe.ts";
export { H264NalType, h264NalType } from "./nal.ts";
export { H264Packetizer } from "./packetizer.ts";
export {
  formatH264ProfileLevelId,
  h264CodecString,
  type H264ProfileLevel,
  h264ProfileLevelId,
  parseH264ProfileLevelId,
} from "./profile_level_id.ts";
export { nalToRbsp } from "./rbsp.ts";
export { type H264Sps, parseH264Sps } from "./sps.ts";
