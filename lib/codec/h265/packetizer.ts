/**
 * H.265 RTP packetizer (RFC 7798, sprop-max-don-diff=0 so no DON fields): AVCC access units in,
 * RTP packets out.
 *
 * ```text
 * AP (4.4.2), used for VPS + SPS + PPS         FU (4.4.3), used for NAL units over the budget
 * +-------------+------+-----+------+-----+--  +-------------+---------+-----------
 * | PayloadHdr  | size | VPS | size | SPS | .. | PayloadHdr  |S|E|Type | fragment
 * | type 48     |      |     |      |     |    | type 49     |         |
 * +-------------+------+-----+------+-----+--  +-------------+---------+-----------
 * ```
 *
 * @module
 */
import { avccNalEnd } from "../annexb/avcc.ts";
import { NalPacketizer, type NalPacketizerOptions } from "../annexb/nal_packetizer.ts";
import { H265NalType } from "./nal.ts";

/**
 * Cuts AVCC H.265 frames into RTP packets: single NAL unit packets, one AP for VPS+SPS+PPS, FUs for
 * NAL units larger than `mtu - 12`. The last packet of each frame has the marker bit and sequence
 * numbers continue from frame to frame. `packetize(frame)` returns one array per frame.
 *
 * @example
 * ```ts
 * const pay = new H265Packetizer({ mtu: 1200, payloadType: 96 });
 * for (const pkt of pay.packetize(frame)) send(serializeRtp(pkt));
 * ```
 */
export class H265Packetizer extends NalPacketizer {
  protected readonly headerSize = 2;
  protected readonly fuHeaderSize = 3;

  constructor(options: NalPacketizerOptions = {}) {
    super(options);
  }

  protected aggregatable(nal: Uint8Array): boolean {
    if (nal.length < 2) return false;
    const type = (nal[0] >> 1) & 0x3f;
    return type >= H265NalType.VPS && type <= H265NalType.PPS;
  }

  protected writeAggregationHeader(
    out: Uint8Array,
    at: number,
    data: Uint8Array,
    from: number,
    to: number,
  ): number {
    // F is the OR of the aggregated F bits; LayerId and TID are their lowest values (RFC 7798 4.4.2).
    let f = 0;
    let layerId = 63;
    let tid = 7;
    for (let p = from; p < to; p = avccNalEnd(data, p)) {
      const h0 = data[p + 4];
      const h1 = data[p + 5];
      f |= h0 & 0x80;
      layerId = Math.min(layerId, ((h0 & 1) << 5) | (h1 >> 3));
      tid = Math.min(tid, h1 & 7);
    }
    out[at] = f | (H265NalType.AP << 1) | (layerId >> 5);
    out[at + 1] = ((layerId & 0x1f) << 3) | tid;
    return 2;
  }

  protected writeFuHeader(out: Uint8Array, at: number, nal: Uint8Array, start: boolean, end: boolean): void {
    out[at] = (nal[0] & 0x81) | (H265NalType.FU << 1);
    out[at + 1] = nal[1];
    out[at + 2] = (start ? 0x80 : 0) | (end ? 0x40 : 0) | ((nal[0] >> 1) & 0x3f);
  }
}
