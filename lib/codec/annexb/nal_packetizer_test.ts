import { describe, expect, it } from "bun:test";
import { rtpSize } from "../../rtp/packet.ts";
import { joinAvcc } from "./avcc.ts";
import { NalPacketizer } from "./nal_packetizer.ts";

/** A toy format: 1-byte header, NAL units starting 0xAA aggregate behind 0xAB, FU header [0xFF, S/E]. */
class ToyPacketizer extends NalPacketizer {
  protected readonly headerSize = 1;
  protected readonly fuHeaderSize = 2;
  protected aggregatable(nal: Uint8Array): boolean {
    return nal[0] === 0xaa;
  }
  protected writeAggregationHeader(out: Uint8Array, at: number): number {
    out[at] = 0xab;
    return 1;
  }
  protected writeFuHeader(out: Uint8Array, at: number, nal: Uint8Array, start: boolean, end: boolean): void {
    out[at] = 0xff;
    out[at + 1] = (start ? 0x80 : 0) | (end ? 0x40 : 0) | (nal[0] & 0x3f);
  }
}

const nal = (head: number, size: number) => {
  const n = new Uint8Array(size).fill(head & 0x0f);
  n[0] = head;
  return n;
};

describe("NalPacketizer", () => {
  it("aggregates runs, fragments large units, marks the last packet and counts sequence numbers", () => {
    const p = new ToyPacketizer({ mtu: 112, sequenceNumber: 0xfffe, ssrc: 5, payloadType: 100 });
    const data = joinAvcc([nal(0xaa, 10), nal(0xaa, 20), nal(0x01, 30), nal(0x02, 250), nal(0xaa, 5)]);
    const packets = p.packetize({ timestamp: 99, keyframe: true, data });
    expect(packets.map((x) => x.payload[0])).toEqual([0xab, 0x01, 0xff, 0xff, 0xff, 0xaa]);
    expect(packets.map((x) => x.sequenceNumber)).toEqual([0xfffe, 0xffff, 0, 1, 2, 3]);
    expect(packets.map((x) => x.marker)).toEqual([false, false, false, false, false, true]);
    expect(packets.map((x) => x.payload.length)).toEqual([1 + 12 + 22, 30, 100, 100, 2 + 249 - 196, 5]);
    expect(packets.map((x) => x.payload[1]).slice(2, 5)).toEqual([0x82, 0x02, 0x42]);
    expect(
      packets.every((x) => rtpSize(x) <= 112 && x.ssrc === 5 && x.payloadType === 100 && x.timestamp === 99),
    ).toBe(true);
    expect(p.sequenceNumber).toBe(4);
  });

  it("ends a run at the budget", () => {
    const p = new ToyPacketizer({ mtu: 77 });
    const packets = p.packetize({
      timestamp: 0,
      keyframe: false,
      data: joinAvcc([nal(0xaa, 30), nal(0xaa, 30), nal(0xaa, 30)]),
    });
    expect(packets.map((x) => x.payload.length)).toEqual([1 + 32 + 32, 30]);
  });

  it("picks a random ssrc and sequence number by default", () => {
    const p = new ToyPacketizer();
    expect([p.mtu, p.payloadType]).toEqual([1200, 96]);
    expect(p.ssrc).toBeGreaterThanOrEqual(0);
    expect(p.sequenceNumber).toBeLessThan(65536);
  });
});
