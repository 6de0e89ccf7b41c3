/**
 * Opus: TOC parsing for packet durations (RFC 6716), RTP payload (RFC 7587), and the
 * identification header for Ogg/WebM (`OpusHead`) and MP4 (`dOps`).
 *
 * @module
 */
export {
  type OpusBandwidth,
  opusFrameCount,
  type OpusMode,
  opusPacketDuration,
  type OpusToc,
  parseOpusToc,
} from "./toc.ts";
export {
  buildOpusDops,
  buildOpusHead,
  type OpusChannelMapping,
  OpusHeadError,
  type OpusHeadFields,
  parseOpusHead,
} from "./head.ts";
export { OpusDepacketizer, OpusPacketizer, type OpusPacketizerOptions } from "./rtp.ts";
