/**
 * The Opus TOC byte (RFC 6716 section 3.1), which tells a packet's mode, bandwidth, frame size and
 * frame count, and so its duration, without decoding. RTP timestamps and MP4/WebM sample durations
 * for Opus come from here.
 *
 * ```text
 *  0 1 2 3 4 5 6 7
 * +-+-+-+-+-+-+-+-+
 * | config  |s| c |   config: mode/bandwidth/frame size (table 2); s: stereo;
 * +-+-+-+-+-+-+-+-+   c: 0 = 1 frame, 1 = 2 equal, 2 = 2 sized, 3 = M frames (next byte, low 6 bits)
 * ```
 *
 * @module
 */

/** Opus coding mode. */
export type OpusMode = "silk" | "hybrid" | "celt";

/** Audio bandwidth: narrow, medium, wide, super-wide, full band. */
export type OpusBandwidth = "nb" | "mb" | "wb" | "swb" | "fb";

/**
 * A decoded TOC byte.
 *
 * @example
 * ```ts
 * parseOpusToc(0xfc); // { config: 31, mode: "celt", bandwidth: "fb", frameSamples: 960, stereo: true, code: 0 }
 * ```
 */
export interface OpusToc {
  config: number;
  mode: OpusMode;
  bandwidth: OpusBandwidth;
  /** Samples per frame at 48 kHz (120 = 2.5 ms ... 2880 = 60 ms). */
  frameSamples: number;
  stereo: boolean;
  /** Frame count code c (0..3). */
  code: number;
}

const SILK_SAMPLES = [480, 960, 1920, 2880];
const HYBRID_SAMPLES = [480, 960];
const CELT_SAMPLES = [120, 240, 480, 960];
const SILK_BW: OpusBandwidth[] = ["nb", "mb", "wb"];
const CELT_BW: OpusBandwidth[] = ["nb", "wb", "swb", "fb"];

/**
 * Decodes a TOC byte (RFC 6716 table 2).
 *
 * @example
 * ```ts
 * parseOpusToc(packet[0]).frameSamples; // 960 = 20 ms
 * ```
 */
export function parseOpusToc(toc: number): OpusToc {
  const config = toc >> 3;
  const stereo = (toc & 0x04) !== 0;
  const code = toc & 0x03;
  if (config < 12) {
    return {
      config,
      mode: "silk",
      bandwidth: SILK_BW[config >> 2],
      frameSamples: SILK_SAMPLES[config & 3],
      stereo,
      code,
    };
  }
  if (config < 16) {
    return {
      config,
      mode: "hybrid",
      bandwidth: config < 14 ? "swb" : "fb",
      frameSamples: HYBRID_SAMPLES[config & 1],
      stereo,
      code,
    };
  }
  return {
    config,
    mode: "celt",
    bandwidth: CELT_BW[(config - 16) >> 2],
    frameSamples: CELT_SAMPLES[config & 3],
    stereo,
    code,
  };
}

/**
 * Number of frames in an Opus packet, or 0 when the packet is malformed (empty, or code 3 without a
 * frame count byte).
 *
 * @example
 * ```ts
 * opusFrameCount(new Uint8Array([0xfd, 0, 0])); // 2
 * ```
 */
export function opusFrameCount(packet: Uint8Array): number {
  if (packet.length < 1) return 0;
  switch (packet[0] & 0x03) {
    case 0:
      return 1;
    case 1:
    case 2:
      return 2;
    default:
      return packet.length < 2 ? 0 : packet[1] & 0x3f;
  }
}

/**
 * Duration of an Opus packet in 48 kHz samples (the RTP clock of Opus, RFC 7587), or 0 when it is
 * malformed or longer than the 120 ms the format allows.
 *
 * @example
 * ```ts
 * nextTimestamp = (timestamp + opusPacketDuration(frame.data)) >>> 0;
 * ```
 */
export function opusPacketDuration(packet: Uint8Array): number {
  const frames = opusFrameCount(packet);
  if (frames === 0) return 0;
  const samples = frames * parseOpusToc(packet[0]).frameSamples;
  return samples > 5760 ? 0 : samples;
}
