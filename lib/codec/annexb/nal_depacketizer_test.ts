import { describe, expect, it } from "bun:test";
import type { RtpPacket } from "../../rtp/packet.ts";
import { joinAvcc } from "./avcc.ts";
import { NalDepacketizer, type NalDepacketizerOptions } from "./nal_depacketizer.ts";

/**
 * A toy payload format: 0xF0 starts a fragment (next byte is the header), 0xF1 continues one,
 * 0xF2 ends one; anything else is one NAL unit. Header 0x01 is a keyframe, 0x09 a delimiter; the
 * one parameter set slot holds `paramSet`, put in front of keyframes.
 */
class ToyDepacketizer extends NalDepacketizer {
  classified: number[] = [];
  constructor(options?: NalDepacketizerOptions, paramSet?: Uint8Array) {
    super(options);
    if (paramSet) this.initParameterSets([paramSet]);
  }
  protected depacketize(payload: Uint8Array): void {
    const k = payload[0];
    if (k === 0xf0) {
      this.beginFragment(payload[1], 0, 1);
      this.appendFragment(payload.subarray(2));
    } else if (k === 0xf1 || k === 0xf2) {
      if (!this.fragmentOpen) return this.malformed(true);
      this.appendFragment(payload.subarray(1));
      if (k === 0xf2) this.endFragment();
    } else {
      this.addNal(payload);
    }
  }
  protected classify(nal: Uint8Array, end: number): void {
    this.classified.push(nal[0]);
    if (nal[0] === 0x01) this.keyframe = true;
    if (nal[0] === 0x09) this.accessUnitDelimiter(end);
  }
  protected override resetAccessUnit(): void {
    super.resetAccessUnit();
    this.classified = [];
  }
}

const pkt = (seq: number, ts: number, marker: boolean, ...payload: number[]): RtpPacket => ({
  payloadType: 96,
  sequenceNumber: seq & 0xffff,
  timestamp: ts,
  ssrc: 1,
  marker,
  payload: new Uint8Array(payload),
});

describe("NalDepacketizer", () => {
  it("assembles fragments and whole NAL units into AVCC, dropping trailing zeros", () => {
    const d = new ToyDepacketizer();
    expect(d.push(pkt(1, 10, false, 0x05, 7, 0, 0))).toBeUndefined();
    d.push(pkt(2, 10, false, 0xf0, 0x01, 1, 2));
    d.push(pkt(3, 10, false, 0xf1, 3));
    const f = d.push(pkt(4, 10, true, 0xf2, 4, 0))!;
    expect(f.data).toEqual(joinAvcc([new Uint8Array([5, 7]), new Uint8Array([1, 1, 2, 3, 4])]));
    expect([f.timestamp, f.keyframe, f.packets!.length]).toEqual([10, true, 4]);
  });

  it("puts the parameter sets in front of keyframes, after a leading delimiter", () => {
    const d = new ToyDepacketizer({}, new Uint8Array([0x07, 0xaa]));
    d.push(pkt(1, 0, false, 0x09, 0x10));
    const f = d.push(pkt(2, 0, true, 0x01, 0x20))!;
    expect(f.data).toEqual(
      joinAvcc([new Uint8Array([0x09, 0x10]), new Uint8Array([0x07, 0xaa]), new Uint8Array([0x01, 0x20])]),
    );
    const g = d.push(pkt(3, 1, true, 0x02, 0x20))!;
    expect(g.data).toEqual(joinAvcc([new Uint8Array([0x02, 0x20])])); // not a keyframe: no prefix
  });

  it("counts a fragment cut short by a sequence gap, a new fragment or the marker", () => {
    const d = new ToyDepacketizer();
    d.push(pkt(1, 0, false, 0xf0, 0x05, 1));
    d.push(pkt(3, 0, true, 0xf2, 2)); // gap: fragment dropped, then an end without start
    expect([d.lostFragments, d.errors, d.droppedFrames]).toEqual([1, 1, 1]);
    d.push(pkt(4, 1, false, 0xf0, 0x05, 1));
    d.push(pkt(5, 1, false, 0xf0, 0x05, 2)); // a new start while one is open
    expect(d.push(pkt(6, 1, true, 0xf1, 3))).toBeUndefined(); // marker with a fragment open
    expect([d.lostFragments, d.droppedFrames]).toEqual([3, 2]);
    expect(d.push(pkt(7, 2, true, 0x05, 1))?.data.length).toBe(6);
  });

  it("counts empty payloads and zero-only NAL units as errors", () => {
    const d = new ToyDepacketizer();
    d.push(pkt(1, 0, false));
    d.push(pkt(2, 0, false, 0, 0));
    expect(d.errors).toBe(2);
    expect(d.push(pkt(3, 0, true))).toBeUndefined(); // nothing to emit
  });

  it("drops an access unit over maxFrameSize without keeping its packets", () => {
    const d = new ToyDepacketizer({ maxFrameSize: 100 });
    d.push(pkt(1, 0, false, 0x05, ...new Uint8Array(60).fill(1)));
    d.push(pkt(2, 0, false, 0x05, ...new Uint8Array(60).fill(1)));
    expect(d.push(pkt(3, 0, true, 0x05, 1))).toBeUndefined();
    expect(d.droppedFrames).toBe(1);
    const f = d.push(pkt(4, 1, true, 0x05, ...new Uint8Array(80).fill(2)))!;
    expect([f.data.length, f.packets!.length]).toEqual([85, 1]);
  });

  it("flush returns the access unit in progress once", () => {
    const d = new ToyDepacketizer();
    expect(d.flush()).toBeUndefined();
    d.push(pkt(1, 5, false, 0x05, 1));
    expect(d.flush()?.timestamp).toBe(5);
    expect(d.flush()).toBeUndefined();
  });
});
