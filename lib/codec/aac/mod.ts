/**
 * AAC: AudioSpecificConfig, ADTS framing, SDP fmtp, and RTP payload formats RFC 3640
 * (`MPEG4-GENERIC`, AAC-hbr) and RFC 6416 (`MP4A-LATM`).
 *
 * @module
 */
export {
  AAC_SAMPLE_RATES,
  aacCodecString,
  AacConfigError,
  aacFrameDuration,
  AacObjectType,
  type AudioSpecificConfig,
  buildAudioSpecificConfig,
  parseAudioSpecificConfig,
} from "./config.ts";
export {
  ADTS_HEADER_SIZE,
  type AdtsFrame,
  type AdtsHeader,
  AdtsParseError,
  AdtsSplitter,
  adtsToAudioSpecificConfig,
  buildAdtsFrame,
  isAdts,
  parseAdtsHeader,
  writeAdtsHeader,
} from "./adts.ts";
export {
  type AacFmtp,
  type AacPayloadFormat,
  aacPayloadFormat,
  buildAacFmtp,
  bytesToHex,
  hexToBytes,
  MP4A_LATM,
  parseAacFmtp,
  parseLatmFmtp,
} from "./fmtp.ts";
export {
  AacDepacketizer,
  type AacDepacketizerOptions,
  AacPacketizer,
  type AacPacketizerOptions,
} from "./rtp.ts";
export {
  LatmDepacketizer,
  type LatmDepacketizerOptions,
  LatmError,
  parseStreamMuxConfig,
  type StreamMuxConfig,
} from "./latm.ts";
export { aacConfigFromCodec, createAacDepacketizer } from "./codec.ts";
