import { describe, expect, it } from "bun:test";
import { buildJpegHeader, makeQuantTables, STANDARD_HUFFMAN_TABLES, ZIGZAG } from "./rfc2435.ts";
import { parseJpeg } from "./jpeg.ts";
import { loadFixture } from "../../../tests/_support/fixtures.ts";
import { hasTool, run } from "../../../tests/_support/process.ts";

const haveFfmpeg = await hasTool("ffmpeg");
const jpeg = (name: string) => loadFixture(new URL(`./testdata/${name}`, import.meta.url));

describe("RFC 2435 tables and headers", () => {
  it("has a zig-zag permutation", () => {
    expect([...ZIGZAG].sort((a, b) => a - b)).toEqual(Array.from({ length: 64 }, (_, i) => i));
  });

  it("scales the standard tables exactly as libjpeg's -quality does", async () => {
    // cjpeg_422_restart.jpg was written with -quality 80, cjpeg_420.jpg with -quality 60.
    for (const [name, q] of [["cjpeg_422_restart.jpg", 80], ["cjpeg_420.jpg", 60]] as const) {
      const info = parseJpeg(await jpeg(name));
      const tables = makeQuantTables(q);
      expect(tables.subarray(0, 64)).toEqual(info.quantTables[0]!.values);
      expect(tables.subarray(64)).toEqual(info.quantTables[1]!.values);
    }
    const t50 = makeQuantTables(50);
    expect(Array.from(t50.subarray(0, 6))).toEqual([16, 11, 12, 14, 12, 10]); // T.81 K.1 in zig-zag order
    expect(makeQuantTables(1).every((v) => v >= 1 && v <= 255)).toBe(true);
    expect(Math.max(...makeQuantTables(99))).toBe(2); // scale 2%: (99 * 2 + 50) / 100
  });

  it("carries the standard Huffman tables that cjpeg writes", async () => {
    const info = parseJpeg(await jpeg("cjpeg_420.jpg"));
    const all = new Uint8Array(info.huffmanSegments.reduce((n, s) => n + s.length, 0));
    info.huffmanSegments.reduce((o, s) => (all.set(s, o), o + s.length), 0);
    expect(all).toEqual(STANDARD_HUFFMAN_TABLES);
  });

  it.skipIf(!haveFfmpeg)("builds headers that make a real scan decodable", async () => {
    const bytes = await jpeg("cjpeg_420.jpg");
    const info = parseJpeg(bytes);
    const header = buildJpegHeader({ type: 1, width: 176, height: 144, quant: makeQuantTables(60) });
    const rebuilt = new Uint8Array([...header, ...bytes.subarray(info.scanStart)]);
    const decode = (b: Uint8Array) =>
      run("ffmpeg", ["-v", "error", "-i", "pipe:0", "-f", "rawvideo", "-pix_fmt", "gray", "-"], 8_000, b);
    const [a, b] = await Promise.all([decode(bytes), decode(rebuilt)]);
    expect(b.stderr).toBe("");
    expect(b.stdout.length).toBe(176 * 144);
    expect(b.stdout).toEqual(a.stdout);
  }, 15000);
});
