import { describe, expect, it } from "bun:test";
import type { Frame } from "../../core/frame.ts";
import { rtpSize } from "../../rtp/packet.ts";
import { joinAvcc } from "../annexb/avcc.ts";
import { readTestdata } from "../annexb/_test_util.ts";
import { h265AccessUnits } from "./_access_units.ts";
import { H265Depacketizer } from "./depacketizer.ts";
import { H265Packetizer } from "./packetizer.ts";

describe("H265Packetizer", () => {
  it("round-trips a libx265 stream through the depacketizer", async () => {
    const frames = h265AccessUnits(await readTestdata("h265", "ffmpeg_h265_640x360.hevc"));
    expect(frames.length).toBe(25);
    const pay = new H265Packetizer({ ssrc: 9, sequenceNumber: 65530 });
    const depay = new H265Depacketizer();
    let seq = 65530;
    for (const frame of frames) {
      const packets = pay.packetize(frame);
      for (const p of packets) {
        expect(rtpSize(p)).toBeLessThanOrEqual(1200);
        expect(p.sequenceNumber).toBe(seq);
        seq = (seq + 1) & 0xffff;
      }
      expect(packets.map((p) => p.marker)).toEqual(packets.map((_, i) => i === packets.length - 1));
      let out: Frame | undefined;
      for (const p of packets) out = depay.push(p) ?? out;
      expect(out?.data).toEqual(frame.data);
      expect([out!.timestamp, out!.keyframe]).toEqual([frame.timestamp, frame.keyframe]);
    }
    expect([depay.errors, depay.lostFragments, depay.droppedFrames]).toEqual([0, 0, 0]);
  });

  it("sends VPS+SPS+PPS as one AP and a large NAL unit as FUs", () => {
    const vps = new Uint8Array([0x40, 0x01, 1, 2]);
    const sps = new Uint8Array([0x42, 0x01, 3]);
    const pps = new Uint8Array([0x44, 0x01, 4]);
    const idr = new Uint8Array(2000).fill(0x5a);
    idr.set([0x26, 0x01]);
    const packets = new H265Packetizer({ mtu: 800 }).packetize({
      timestamp: 0,
      keyframe: true,
      data: joinAvcc([vps, sps, pps, idr]),
    });
    expect(packets.map((p) => (p.payload[0] >> 1) & 0x3f)).toEqual([48, 49, 49, 49]);
    expect([...packets[0].payload]).toEqual([0x60, 0x01, 0, 4, ...vps, 0, 3, ...sps, 0, 3, ...pps]);
    expect(packets.slice(1).map((p) => [p.payload[0], p.payload[1], p.payload[2]])).toEqual([
      [0x62, 0x01, 0x80 | 19],
      [0x62, 0x01, 19],
      [0x62, 0x01, 0x40 | 19],
    ]);
    expect(packets.slice(1).reduce((n, p) => n + p.payload.length - 3, 0)).toBe(idr.length - 2);
    expect(packets.every((p) => rtpSize(p) <= 800)).toBe(true);
  });

  it("uses the lowest LayerId and TID and the OR of F in the AP header", () => {
    const a = new Uint8Array([0x40 | 0x80, 0x0b, 1]); // F=1, LayerId 1, TID 3
    const b = new Uint8Array([0x42, 0x02, 2]); // LayerId 0, TID 2
    const [ap] = new H265Packetizer().packetize({ timestamp: 0, keyframe: false, data: joinAvcc([a, b]) });
    expect([ap.payload[0], ap.payload[1]]).toEqual([0x80 | (48 << 1), 0x02]);
  });
});
