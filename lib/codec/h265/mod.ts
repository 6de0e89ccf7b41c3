/**
 * H.265 / HEVC: NAL unit types, SPS parsing, codec strings, SDP fmtp, keyframe detection and RTP
 * (RFC 7798) depacketizing and packetizing. AVCC/Annex-B framing is re-exported from `../annexb`.
 *
 * @module
 */
export { annexbToAvcc, avccToAnnexb, splitAnnexb } from "../annexb/annexb.ts";
export { joinAvcc, splitAvcc } from "../annexb/avcc.ts";
export { h265CodecString, h265CodecStringFromSps } from "./codec_string.ts";
export { H265Depacketizer, type H265DepacketizerOptions } from "./depacketizer.ts";
export { buildH265Fmtp, h265MaxDonDiff, type H265ParameterSets, h265ParameterSetsFromFmtp } from "./fmtp.ts";
export { isH265Keyframe } from "./keyframe.ts";
export { H265NalType, h265NalType, isH265Irap } from "./nal.ts";
export { H265Packetizer } from "./packetizer.ts";
export { type H265Sps, parseH265Sps } from "./sps.ts";
