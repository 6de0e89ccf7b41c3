/**
 * RTP and RTCP: packets (RFC 3550 5.1), RTCP reports and compound packets (RFC 3550 6), sequence
 * and timestamp rewriting for continuous output across source changes, reordering for UDP, and the
 * capture container used by test fixtures.
 *
 * @module
 */
export { parseRtp, type RtpPacket, RtpParseError, rtpSize, serializeRtp, tryParseRtp, writeRtp } from "./packet.ts";
export {
  isRtcp,
  ntpFromMs,
  ntpMiddle32,
  ntpToMs,
  parseRtcp,
  type RtcpGoodbye,
  type RtcpPacket,
  RtcpPacketType,
  RtcpParseError,
  type RtcpRawPacket,
  type RtcpReceiverReport,
  type RtcpReportBlock,
  type RtcpSenderReport,
  rtcpSize,
  type RtcpSourceDescription,
  type SdesChunk,
  type SdesItem,
  SdesItemType,
  serializeRtcp,
  writeRtcp,
} from "./rtcp.ts";
export {
  RtpRewriter,
  type RtpRewriterOptions,
  SequenceRewriter,
  type TimestampResetOptions,
  TimestampRewriter,
} from "./rtp_rewriter.ts";
export { ReorderBuffer, type ReorderBufferOptions } from "./reorder.ts";
export { readRtpCapture, RtpCaptureError, writeRtpCapture } from "./capture.ts";
