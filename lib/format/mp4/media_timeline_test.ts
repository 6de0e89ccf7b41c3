import { describe, expect, it } from "bun:test";
import { MediaTimeline } from "./media_timeline.ts";
import { BoxWriter, findBox, Mp4BoxError, readBoxes } from "./mp4_box.ts";

describe("MediaTimeline", () => {
  it("starts at 0 and follows the timestamps", () => {
    const tl = new MediaTimeline({ clockRate: 90000 });
    expect(tl.next(1000)).toBe(0);
    expect(tl.next(4600)).toBe(3600);
    expect(tl.next(8200)).toBe(7200);
    expect(tl.lastDelta).toBe(3600);
  });

  it("unfolds a 32-bit RTP wrap", () => {
    const tl = new MediaTimeline({ clockRate: 90000 });
    tl.next(0xffffffff - 1000);
    expect(tl.next(2600)).toBe(3601);
    expect(tl.discontinuities).toBe(0);
  });

  it("steps by the last frame duration over a backward step or a jump (source restart)", () => {
    const tl = new MediaTimeline({ clockRate: 8000 });
    tl.next(100);
    tl.next(260);
    expect(tl.next(5)).toBe(320); // backwards: +160
    expect(tl.next(165)).toBe(480);
    expect(tl.next(165 + 8000 * 60)).toBe(640); // a minute ahead: +160
    expect(tl.next(165 + 8000 * 60 + 160, 999)).toBe(800); // fallback unused: continuous
    expect(tl.next(1, 320)).toBe(1120); // fallback used at the discontinuity
    expect(tl.discontinuities).toBe(3);
  });
});

describe("mp4 boxes", () => {
  it("writes and reads nested boxes, 64-bit sizes and size 0 (to the end)", () => {
    const w = new BoxWriter(8);
    const a = w.start("moov");
    const b = w.startFull("mvhd", 1, 0);
    w.u64(2 ** 40 + 5);
    w.end(b);
    w.end(a);
    w.u32(1);
    w.fourcc("mdat");
    w.u64(16 + 3);
    w.bytes(new Uint8Array([1, 2, 3]));
    w.u32(0);
    w.fourcc("free");
    w.zeros(5);
    const bytes = w.toBytes();
    expect(readBoxes(bytes).map((x) => [x.type, x.end - x.start])).toEqual([["moov", 28], ["mdat", 19], [
      "free",
      13,
    ]]);
    const mvhd = findBox(bytes, "moov/mvhd")!;
    const v = new DataView(bytes.buffer);
    expect(v.getUint32(mvhd.payload + 4) * 2 ** 32 + v.getUint32(mvhd.payload + 8)).toBe(2 ** 40 + 5);
  });

  it("rejects sizes that do not fit, and fixed writers that overflow", () => {
    const bad = new Uint8Array([0, 0, 0, 100, 0x66, 0x72, 0x65, 0x65]);
    expect(() => readBoxes(bad)).toThrow(Mp4BoxError);
    expect(() => readBoxes(new Uint8Array([0, 0, 0, 4, 0x66, 0x72, 0x65, 0x65]))).toThrow(/smaller than/);
    const fixed = new BoxWriter(4, true);
    fixed.u32(1);
    expect(() => fixed.u8(1)).toThrow(RangeError);
  });
});
