import { describe, expect, it } from "bun:test";
import type { Frame } from "../../core/frame.ts";
import type { RtpPacket } from "../../rtp/packet.ts";
import { createDepacketizer, GenericDepacketizer } from "./depay.ts";

function pkt(seq: number, ts: number, marker: boolean, payload: number[]): RtpPacket {
  return {
    payloadType: 96,
    sequenceNumber: seq,
    timestamp: ts,
    ssrc: 1,
    marker,
    payload: new Uint8Array(payload),
  };
}

describe("GenericDepacketizer", () => {
  it("collects video packets up to the marker (and on a timestamp change)", () => {
    const d = new GenericDepacketizer(false);
    expect(d.push(pkt(1, 0, false, [1, 2]))).toBeUndefined();
    const f = d.push(pkt(2, 0, true, [3]))!;
    expect([...f.data]).toEqual([1, 2, 3]);
    expect(f.keyframe).toBe(false);
    expect(f.packets?.length).toBe(2);
    // No marker, then a new timestamp: the old frame ends; a marker on that packet ends it too.
    expect(d.push(pkt(3, 3000, false, [4]))).toBeUndefined();
    const g = d.push(pkt(4, 6000, true, [5]))!;
    expect([...g.data]).toEqual([4]);
    const h = d.push(pkt(5, 9000, false, [6]))!;
    expect([...h.data]).toEqual([5]);
  });

  it("makes one frame per audio packet", () => {
    const d = new GenericDepacketizer(true);
    const f = d.push(pkt(1, 160, false, [9, 9]))!;
    expect(f.timestamp).toBe(160);
    expect(f.data.length).toBe(2);
  });
});

describe("createDepacketizer", () => {
  it("uses the codec's depacketizer and falls back to the generic one", () => {
    const frames: Frame[] = [];
    const h264 = createDepacketizer({ name: "H264", clockRate: 90000 }, "video", (f) => frames.push(f));
    h264.push(pkt(1, 0, true, [0x65, 0x88, 0x80]));
    expect(frames.length).toBe(1);
    expect(frames[0].keyframe).toBe(true);
    expect([...frames[0].data.subarray(0, 4)]).toEqual([0, 0, 0, 3]); // AVCC length prefix
    const vp8 = createDepacketizer({ name: "VP8", clockRate: 90000 }, "video", (f) => frames.push(f));
    vp8.push(pkt(1, 0, true, [1]));
    expect(frames.length).toBe(2);
  });
});
