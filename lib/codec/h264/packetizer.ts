/**
 * H.264 RTP packetizer (RFC 6184, packetization-mode=1): AVCC access units in, RTP packets out.
 *
 * ```text
 * STAP-A (5.7.1), used for SPS + PPS      FU-A (5.8), used for NAL units over the budget
 * +---------------+-------+-----+---      +---------------+---------------+-----------
 * |F|NRI|  24     | size  | SPS | ...     |F|NRI|  28     |S|E|R| Type    | fragment
 * +---------------+-------+-----+---      +---------------+---------------+-----------
 * ```
 *
 * @module
 */
import { avccNalEnd } from "../annexb/avcc.ts";
import { NalPacketizer, type NalPacketizerOptions } from "../annexb/nal_packetizer.ts";
import { H264NalType } from "./nal.ts";

/**
 * Cuts AVCC H.264 frames into RTP packets: single NAL unit packets, STAP-A for SPS+PPS, FU-A for
 * NAL units larger than `mtu - 12`. The last packet of each frame has the marker bit and sequence
 * numbers continue from frame to frame.
 *
 * `packetize(frame)` returns one array of packets per frame (chosen over a per-packet callback: the
 * array is per frame, and callers usually need the count, e.g. for RTSP interleaved writes).
 *
 * @example
 * ```ts
 * const pay = new H264Packetizer({ mtu: 1200, payloadType: 96 });
 * for (const pkt of pay.packetize(frame)) send(serializeRtp(pkt));
 * ```
 */
export class H264Packetizer extends NalPacketizer {
  protected readonly headerSize = 1;
  protected readonly fuHeaderSize = 2;

  constructor(options: NalPacketizerOptions = {}) {
    super(options);
  }

  protected aggregatable(nal: Uint8Array): boolean {
    const type = nal[0] & 0x1f;
    return type === H264NalType.SPS || type === H264NalType.PPS;
  }

  protected writeAggregationHeader(
    out: Uint8Array,
    at: number,
    data: Uint8Array,
    from: number,
    to: number,
  ): number {
    // F is the OR of the aggregated F bits, NRI their maximum (RFC 6184 5.7.1).
    let f = 0;
    let nri = 0;
    for (let p = from; p < to; p = avccNalEnd(data, p)) {
      const h = data[p + 4];
      f |= h & 0x80;
      nri = Math.max(nri, h & 0x60);
    }
    out[at] = f | nri | H264NalType.STAP_A;
    return 1;
  }

  protected writeFuHeader(out: Uint8Array, at: number, nal: Uint8Array, start: boolean, end: boolean): void {
    out[at] = (nal[0] & 0xe0) | H264NalType.FU_A;
    out[at + 1] = (start ? 0x80 : 0) | (end ? 0x40 : 0) | (nal[0] & 0x1f);
  }
}
