import { describe, expect, test } from "bun:test";
import type { Frame } from "../../core/frame.ts";
import { createPacketizer } from "../rtsp/pay.ts";
import { shareablePackets, sharedPackets } from "./shared_packets.ts";

const H264 = { name: "H264", clockRate: 90000 };

/** An AVCC access unit: one IDR NAL unit of `size` bytes (FU-A at MTU 1200 when large). */
function frame(size: number, timestamp: number): Frame {
  const data = new Uint8Array(4 + size);
  new DataView(data.buffer).setUint32(0, size);
  data[4] = 0x65;
  for (let i = 5; i < data.length; i++) data[i] = i & 0xff;
  return { timestamp, keyframe: true, data };
}

const bytes = (f: Frame, prefix?: Uint8Array) =>
  createPacketizer(H264, "video", 1200).packetize(prefix ? { ...f, data: concat(prefix, f.data) } : f).map((p) => [...p.payload]);

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

describe("sharedPackets", () => {
  test("viewers of the same frame get the same payload buffers, as one packetizer cuts them", () => {
    const f = frame(5000, 90000);
    const a = sharedPackets(f, f, "H264/1200", undefined, createPacketizer(H264, "video", 1200));
    const b = sharedPackets(f, f, "H264/1200", undefined, createPacketizer(H264, "video", 1200));
    expect(b).toBe(a);
    expect(a.map((p) => [...p.payload])).toEqual(bytes(f));
    expect(a.at(-1)!.marker).toBe(true);
  });

  test("another MTU or other parameter sets in front are cut on their own", () => {
    const f = frame(5000, 0);
    const a = sharedPackets(f, f, "H264/1200", undefined, createPacketizer(H264, "video", 1200));
    const small = sharedPackets(f, f, "H264/600", undefined, createPacketizer(H264, "video", 600));
    expect(small).not.toBe(a);
    expect(small.length).toBeGreaterThan(a.length);
    const sps = new Uint8Array([0, 0, 0, 3, 0x67, 1, 2]);
    const withSps = { ...f, data: concat(sps, f.data) };
    const p = sharedPackets(f, withSps, "H264/1200", sps, createPacketizer(H264, "video", 1200));
    expect(p.map((x) => [...x.payload])).toEqual(bytes(f, sps));
    // Equal bytes in another array share; different bytes do not.
    expect(sharedPackets(f, withSps, "H264/1200", sps.slice(), createPacketizer(H264, "video", 1200))).toBe(p);
    expect(sharedPackets(f, f, "H264/1200", undefined, createPacketizer(H264, "video", 1200))).not.toBe(p);
  });

  test("only codecs whose packetizer keeps no state across frames are shared", () => {
    expect(shareablePackets("H264")).toBe(true);
    expect(shareablePackets("h265")).toBe(true);
    expect(shareablePackets("VP8")).toBe(false);
    expect(shareablePackets("OPUS")).toBe(false);
  });
});
