/**
 * The unit that flows from sources to viewers: one access unit (a video frame, or an audio frame).
 *
 * @module
 */
import type { RtpPacket } from "../rtp/packet.ts";

/**
 * One access unit.
 *
 * - `timestamp` is in the codec clock (90 kHz for video, the sample rate for most audio) and is the
 *   decode time; `cts` adds the composition offset for B-frames.
 * - `data` layout by codec: H.264/H.265 as AVCC (4-byte big-endian length before each NAL unit, no
 *   start codes); AAC as one raw access unit (no ADTS header); Opus, G.711 and others raw; JPEG as a
 *   complete JPEG image.
 * - `packets`, on frames that came from RTP, holds the original packets so an RTP-to-RTP path (RTSP
 *   relay) can forward them without re-packetizing. Consumers must not mutate them.
 *
 * @example
 * ```ts
 * const frame: Frame = { timestamp: 3000, keyframe: true, data: avcc };
 * ```
 */
export interface Frame {
  timestamp: number;
  keyframe: boolean;
  data: Uint8Array;
  cts?: number;
  packets?: RtpPacket[];
}
