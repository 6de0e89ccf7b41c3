import { describe, expect, it } from "bun:test";
import { JpegSplitter } from "./jpeg_splitter.ts";

const SOI = [0xff, 0xd8];
const EOI = [0xff, 0xd9];
function segment(marker: number, payload: number[]): number[] {
  const len = payload.length + 2;
  return [0xff, marker, len >> 8, len & 0xff, ...payload];
}

// A structurally valid JPEG: APP0, an APP1 holding a whole thumbnail JPEG (with its own SOI/EOI),
// DQT, SOS, then entropy data with a stuffed 0xFF00 and restart markers, then EOI.
function jpeg(seed: number): Uint8Array {
  const thumb = [...SOI, ...segment(0xdb, [0, 1, 2]), ...EOI];
  return new Uint8Array([
    ...SOI,
    ...segment(0xe0, [0x4a, 0x46, 0x49, 0x46, 0, seed]),
    ...segment(0xe1, [0x45, 0x78, 0x69, 0x66, 0, 0, ...thumb]),
    ...segment(0xdb, [seed, 1, 2, 3]),
    ...segment(0xda, [1, 1, 0, 0, 0x3f, 0]),
    seed,
    0x12,
    0xff,
    0x00,
    0x34,
    0xff,
    0xd0,
    0x56,
    0xff,
    0xff,
    0x00,
    0x78,
    0xff,
    0xd7,
    seed,
    ...EOI,
  ]);
}

function split(chunks: Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  const s = new JpegSplitter((j) => out.push(j));
  for (const c of chunks) s.push(c);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

describe("JpegSplitter", () => {
  const images = [jpeg(1), jpeg(2), jpeg(3)];
  const stream = concat([
    new Uint8Array([0, 1, 0xff]),
    images[0],
    images[1],
    new Uint8Array([9, 9]),
    images[2],
  ]);

  it("splits whole images, not at an embedded thumbnail's EOI", () => {
    expect(split([stream])).toEqual(images);
  });

  it("gives the same result for any chunking, down to single bytes", () => {
    expect(split([...stream].map((b) => new Uint8Array([b])))).toEqual(images);
    for (const size of [2, 3, 7, 16, 33]) {
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < stream.length; i += size) chunks.push(stream.subarray(i, i + size));
      expect(split(chunks)).toEqual(images);
    }
  });

  it("hands out copies that later input does not overwrite", () => {
    const out: Uint8Array[] = [];
    const s = new JpegSplitter((j) => out.push(j));
    s.push(images[0]);
    const first = out[0].slice();
    s.push(images[1]);
    expect(out[0]).toEqual(first);
  });

  it("drops an image that grows past the size limit and recovers", () => {
    const out: Uint8Array[] = [];
    const s = new JpegSplitter((j) => out.push(j), 64);
    s.push(new Uint8Array([...SOI, ...segment(0xda, [1]), ...new Array(200).fill(7)]));
    expect(out.length).toBe(0);
    expect(s.skipped).toBeGreaterThan(64);
    s.push(jpeg(4));
    expect(out).toEqual([jpeg(4)]);
  });
});
