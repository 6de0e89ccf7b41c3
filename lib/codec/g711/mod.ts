/**
 * G.711 (PCMA/PCMU): companding tables, RTP payload (RFC 3551), a small resampler, and PCM-family
 * transcoding (L16/PCML/PCMA/PCMU at any rate) as go2rtc does for two-way audio.
 *
 * @module
 */
export {
  alawToLinear,
  decodeAlaw,
  decodeUlaw,
  encodeAlaw,
  encodeUlaw,
  linearToAlaw,
  linearToUlaw,
  ulawToLinear,
} from "./companding.ts";
export { Resampler, type ResamplerOptions } from "./resample.ts";
export { isPcmCodec, type PcmCodecName, PcmTranscoder } from "./transcode.ts";
export { PcmAudioTranscoder, pcmAudioTranscoderFactory } from "./pcm_audio_transcoder.ts";
export { G711Depacketizer, G711Packetizer, type G711PacketizerOptions, g711PayloadType } from "./rtp.ts";
