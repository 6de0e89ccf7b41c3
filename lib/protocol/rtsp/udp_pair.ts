/**
 * Binding the two UDP sockets of one RTP session: RTP on an even port, RTCP on the next (RFC 3550
 * section 11; ffmpeg and most cameras assume that layout even when both ports are announced).
 *
 * @module
 */
import { udpBind, type UdpSocket } from "../../runtime/mod.ts";

/**
 * Binds RTP on an even port and RTCP on port + 1. Falls back to any two ports after a few tries.
 *
 * @example
 * ```ts
 * const [rtp, rtcp] = await bindUdpPair("0.0.0.0");
 * console.log(rtp.addr.port, rtcp.addr.port); // 50000 50001
 * ```
 */
export async function bindUdpPair(hostname = "0.0.0.0"): Promise<[UdpSocket, UdpSocket]> {
  for (let attempt = 0; attempt < 16; attempt++) {
    const first = await udpBind({ hostname, port: 0 });
    const port = first.addr.port;
    if (port % 2 !== 0 || port >= 65535) {
      // Try to take port - 1 for RTP; if it is busy, drop this one and try again.
      if (port % 2 !== 0) {
        try {
          const rtp = await udpBind({ hostname, port: port - 1 });
          return [rtp, first];
        } catch {
          first.close();
          continue;
        }
      }
      first.close();
      continue;
    }
    try {
      const rtcp = await udpBind({ hostname, port: port + 1 });
      return [first, rtcp];
    } catch {
      first.close();
    }
  }
  const rtp = await udpBind({ hostname, port: 0 });
  try {
    return [rtp, await udpBind({ hostname, port: 0 })];
  } catch (error) {
    rtp.close();
    throw error;
  }
}
