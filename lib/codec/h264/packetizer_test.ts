import { describe, expect, it } from "bun:test";
import type { Frame } from "../../core/frame.ts";
import { rtpSize } from "../../rtp/packet.ts";
import { annexbToAvcc, splitAnnexb } from "../annexb/annexb.ts";
import { joinAvcc } from "../annexb/avcc.ts";
import { readTestdata } from "../annexb/_test_util.ts";
import { H264Depacketizer } from "./depacketizer.ts";
import { H264Packetizer } from "./packetizer.ts";

/** Groups an Annex-B stream into access units: a new one starts at SPS/AUD or at a first slice. */
function accessUnits(es: Uint8Array): Frame[] {
  const units: Uint8Array[][] = [];
  let cur: Uint8Array[] = [];
  let sawSlice = false;
  for (const nal of splitAnnexb(es)) {
    const t = nal[0] & 0x1f;
    const firstSlice = (t === 1 || t === 5) && (nal[1] & 0x80) !== 0;
    if (cur.length && (t === 7 || t === 9 || (firstSlice && sawSlice))) {
      units.push(cur);
      cur = [];
      sawSlice = false;
    }
    cur.push(nal);
    if (t === 1 || t === 5) sawSlice = true;
  }
  if (cur.length) units.push(cur);
  return units.map((nals, i) => ({
    timestamp: i * 3600,
    keyframe: nals.some((n) => (n[0] & 0x1f) === 5),
    data: joinAvcc(nals),
  }));
}

describe("H264Packetizer", () => {
  it("round-trips a libx264 stream through the depacketizer", async () => {
    const frames = accessUnits(await readTestdata("h264", "ffmpeg_h264_640x360.h264"));
    expect(frames.length).toBe(25);
    const pay = new H264Packetizer({ ssrc: 7, sequenceNumber: 65500, payloadType: 97 });
    const depay = new H264Depacketizer();
    let expectSeq = 65500;
    for (const frame of frames) {
      const packets = pay.packetize(frame);
      for (const p of packets) {
        expect(rtpSize(p)).toBeLessThanOrEqual(1200);
        expect(p.sequenceNumber).toBe(expectSeq);
        expect([p.ssrc, p.payloadType, p.timestamp]).toEqual([7, 97, frame.timestamp]);
        expectSeq = (expectSeq + 1) & 0xffff;
      }
      expect(packets.map((p) => p.marker)).toEqual(packets.map((_, i) => i === packets.length - 1));
      let out: Frame | undefined;
      for (const p of packets) out = depay.push(p) ?? out;
      expect(out).toBeDefined();
      expect(out!.data).toEqual(frame.data);
      expect([out!.timestamp, out!.keyframe]).toEqual([frame.timestamp, frame.keyframe]);
    }
    expect([depay.errors, depay.lostFragments, depay.droppedFrames]).toEqual([0, 0, 0]);
  });

  it("sends SPS+PPS as one STAP-A and large NAL units as FU-A", () => {
    const sps = new Uint8Array([0x67, 0x64, 0, 0x1f, 1, 2]);
    const pps = new Uint8Array([0x68, 0xee, 0x3c]);
    const idr = new Uint8Array(2500).fill(0xab);
    idr[0] = 0x65;
    const pay = new H264Packetizer({ mtu: 1000, sequenceNumber: 0 });
    const packets = pay.packetize({ timestamp: 1, keyframe: true, data: joinAvcc([sps, pps, idr]) });
    const kinds = packets.map((p) => p.payload[0] & 0x1f);
    expect(kinds).toEqual([24, 28, 28, 28]);
    expect([...packets[0].payload]).toEqual([0x78, 0, 6, ...sps, 0, 3, ...pps]);
    expect(packets.slice(1).map((p) => p.payload[1])).toEqual([0x85, 0x05, 0x45]);
    expect(packets[1].payload[0]).toBe(0x7c);
    expect(packets.slice(1).reduce((n, p) => n + p.payload.length - 2, 0)).toBe(idr.length - 1);
    expect(packets.every((p) => rtpSize(p) <= 1000)).toBe(true);
    expect(pay.sequenceNumber).toBe(4);
  });

  it("sends small NAL units as single NAL unit packets without copying", () => {
    const data = joinAvcc([new Uint8Array([0x06, 1, 2]), new Uint8Array([0x41, 3])]);
    const packets = new H264Packetizer().packetize({ timestamp: 2 ** 32 + 5, keyframe: false, data });
    expect(packets.map((p) => [...p.payload])).toEqual([[0x06, 1, 2], [0x41, 3]]);
    expect(packets[1].payload.buffer).toBe(data.buffer);
    expect(packets[0].timestamp).toBe(5);
  });

  it("does not aggregate an SPS that does not fit with the PPS", () => {
    const sps = new Uint8Array(700).fill(1);
    sps[0] = 0x67;
    const pps = new Uint8Array(400).fill(2);
    pps[0] = 0x68;
    const packets = new H264Packetizer({ mtu: 1000 }).packetize({
      timestamp: 0,
      keyframe: false,
      data: joinAvcc([sps, pps]),
    });
    expect(packets.map((p) => p.payload[0] & 0x1f)).toEqual([7, 8]);
  });

  it("counts malformed AVCC and returns what came before it", () => {
    const pay = new H264Packetizer();
    const data = new Uint8Array([0, 0, 0, 2, 0x41, 1, 0, 0, 0, 50, 0x41]);
    const packets = pay.packetize({ timestamp: 0, keyframe: false, data });
    expect(packets.length).toBe(1);
    expect(packets[0].marker).toBe(true);
    expect(pay.errors).toBe(1);
    expect(pay.packetize({ timestamp: 0, keyframe: false, data: new Uint8Array() })).toEqual([]);
  });

  it("rejects a tiny mtu", () => {
    expect(() => new H264Packetizer({ mtu: 50 })).toThrow(RangeError);
  });

  it("packetizes a real 1080p keyframe within the mtu", async () => {
    const data = annexbToAvcc(await readTestdata("h264", "ffmpeg_h264_1920x1080_high.h264"));
    const packets = new H264Packetizer({ mtu: 200 }).packetize({ timestamp: 0, keyframe: true, data });
    expect(packets.every((p) => rtpSize(p) <= 200)).toBe(true);
    const depay = new H264Depacketizer();
    let out: Frame | undefined;
    for (const p of packets) out = depay.push(p) ?? out;
    expect(out?.data).toEqual(data);
  });
});
