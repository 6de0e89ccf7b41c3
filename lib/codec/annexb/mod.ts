/**
 * NAL unit framing shared by H.264 and H.265: Annex-B start codes, AVCC length prefixes, and the
 * codec-neutral RTP depacketizer/packetizer bases.
 *
 * @module
 */
export { annexbToAvcc, avccToAnnexb, findStartCode, splitAnnexb } from "./annexb.ts";
export { avccNalEnd, joinAvcc, splitAvcc, writeAvccLength } from "./avcc.ts";
export { NalFramingError } from "./nal_framing_error.ts";
export { NalDepacketizer, type NalDepacketizerOptions } from "./nal_depacketizer.ts";
export { NalPacketizer, type NalPacketizerOptions } from "./nal_packetizer.ts";
