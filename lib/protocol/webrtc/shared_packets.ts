/**
 * H.264/H.265 frames cut into RTP payloads once for all WebRTC viewers, instead of once per viewer.
 *
 * A NAL packetizer's payloads (single NAL units, STAP/AP, FU fragments) depend only on the frame,
 * the codec, the MTU and the parameter sets put in front of a keyframe: never on the viewer, whose
 * sequence numbers, SSRC and timestamps go in werift's RTP header. Packetizing per viewer copied
 * every frame once per viewer into a new buffer (at 50 viewers of a 4 Mbit/s camera, 25 MB/s of
 * buffers that are garbage a moment later), and werift's NACK history (the last 128 packets of each
 * sender) kept each viewer's own copies alive. Shared, the viewers' histories point at the same
 * buffers and the copy happens once per frame.
 *
 * One entry per frame's data, held weakly (the entry goes with the frame); the last viewer to miss
 * replaces it, so viewers that cut differently (another MTU) stay correct, only unshared. Payloads
 * are read only: werift reads them as cipher input, never writes them.
 *
 * @module
 */
import type { Frame } from "../../core/frame.ts";
import type { RtpPacket } from "../../rtp/packet.ts";
import type { FramePacketizer } from "../rtsp/pay.ts";

interface Entry {
  key: string;
  prefix: Uint8Array | undefined;
  packets: RtpPacket[];
}

const cache = new WeakMap<Uint8Array, Entry>();

/** Codecs whose packetizer keeps no state across frames that shows in the payload. */
const SHAREABLE = new Set(["H264", "H265"]);

/** Whether frames of `codecName` may be packetized once for all viewers. */
export function shareablePackets(codecName: string): boolean {
  return SHAREABLE.has(codecName.toUpperCase());
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The packets of `frame` as `packetizer` cuts them, shared with every other caller that passes the
 * same frame data, `key` (codec and MTU) and `prefix` bytes. `input` is what to packetize on a
 * miss: the frame itself, or the frame with `prefix` (parameter sets) in front.
 * Callers read `payload` and `marker` of the packets only: the same data may come again in a later
 * frame (a source that loops a clip), and the packets then carry the earlier frame's timestamp.
 *
 * @example
 * ```ts
 * const packets = sharedPackets(frame, input, `H264/1200`, paramSets, packetizer);
 * ```
 */
export function sharedPackets(
  frame: Frame,
  input: Frame,
  key: string,
  prefix: Uint8Array | undefined,
  packetizer: FramePacketizer,
): RtpPacket[] {
  const hit = cache.get(frame.data);
  if (hit && hit.key === key && sameBytes(hit.prefix, prefix)) return hit.packets;
  const packets = packetizer.packetize(input);
  cache.set(frame.data, { key, prefix, packets });
  return packets;
}
