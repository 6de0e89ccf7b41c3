/**
 * AAC as described by an SDP codec: the RTP payload format (RFC 3640 `MPEG4-GENERIC` or RFC 6416
 * `MP4A-LATM`), the AudioSpecificConfig hidden in either fmtp, and the matching depacketizer.
 *
 * @module
 */
import type { Codec } from "../../core/codec.ts";
import type { Frame } from "../../core/frame.ts";
import { aacPayloadFormat, parseAacFmtp, parseLatmFmtp } from "./fmtp.ts";
import { LatmDepacketizer, parseStreamMuxConfig } from "./latm.ts";
import { AacDepacketizer } from "./rtp.ts";

/**
 * The AudioSpecificConfig bytes of an AAC codec, from `config=` (MPEG4-GENERIC) or from the
 * StreamMuxConfig in `config=` (MP4A-LATM). Undefined when absent or unreadable (for LATM with
 * `cpresent=1` the config only arrives in band: ask the depacketizer's `streamMuxConfig`).
 *
 * @example
 * ```ts
 * const asc = aacConfigFromCodec({ name: "MP4A-LATM", clockRate: 44100, fmtp: "cpresent=0;config=400024203fc0" });
 * // Uint8Array [0x12, 0x10], ready for esds or ADTS
 * ```
 */
export function aacConfigFromCodec(codec: Codec): Uint8Array | undefined {
  switch (aacPayloadFormat(codec)) {
    case "mpeg4-generic":
      return parseAacFmtp(codec.fmtp).config;
    case "latm": {
      const config = parseLatmFmtp(codec.fmtp).config;
      if (!config) return undefined;
      try {
        return parseStreamMuxConfig(config).audioSpecificConfigBytes;
      } catch {
        return undefined;
      }
    }
    default:
      return undefined;
  }
}

/**
 * A depacketizer for an AAC codec in whichever RTP payload format its SDP names, or undefined when
 * the codec is not AAC over RTP. Both emit one frame per access unit through `onFrame`.
 *
 * @example
 * ```ts
 * const depay = createAacDepacketizer(codec, (f) => receiver.push(f));
 * track.onPacket = (pkt) => depay?.push(pkt);
 * ```
 */
export function createAacDepacketizer(
  codec: Codec,
  onFrame: (frame: Frame) => void,
): AacDepacketizer | LatmDepacketizer | undefined {
  switch (aacPayloadFormat(codec)) {
    case "mpeg4-generic":
      return AacDepacketizer.fromCodec(codec, onFrame);
    case "latm":
      return LatmDepacketizer.fromCodec(codec, onFrame);
    default:
      return undefined;
  }
}
