import { describe, expect, it } from "bun:test";
import { JpegParseError, parseJpeg, parseJpegSize } from "./jpeg.ts";
import { loadFixture, seededRandom } from "../../../tests/_support/fixtures.ts";

const jpeg = (name: string) => loadFixture(new URL(`./testdata/${name}`, import.meta.url));

describe("JPEG headers", () => {
  it("reads cjpeg's 4:2:0 JPEG", async () => {
    const bytes = await jpeg("cjpeg_420.jpg");
    const info = parseJpeg(bytes);
    expect([info.width, info.height, info.sofMarker, info.precision]).toEqual([176, 144, 0xc0, 8]);
    expect(info.components).toEqual([
      { id: 1, h: 2, v: 2, tq: 0 },
      { id: 2, h: 1, v: 1, tq: 1 },
      { id: 3, h: 1, v: 1, tq: 1 },
    ]);
    expect(info.quantTables.map((t) => t?.values.length)).toEqual([64, 64]);
    expect(info.huffmanSegments.length).toBeGreaterThan(0);
    expect(info.restartInterval).toBe(0);
    expect(info.scanEnd).toBe(bytes.length - 2);
    expect(bytes[info.scanStart - 14]).toBe(0xff); // SOS header is 12 bytes + marker
    expect(bytes[info.scanStart - 13]).toBe(0xda);
  });

  it("reads the restart interval and 4:2:2 sampling", async () => {
    const info = parseJpeg(await jpeg("cjpeg_422_restart.jpg"));
    expect(info.restartInterval).toBe(11);
    expect(info.components[0]).toMatchObject({ h: 2, v: 1 });
    const ff = parseJpeg(await jpeg("ffmpeg_420_restart.jpg"));
    expect(ff.restartInterval).toBeGreaterThan(0);
    expect(ff.quantTables.filter(Boolean).length).toBe(1); // ffmpeg shares one table
  });

  it("reads the size without a full parse, and never throws", async () => {
    expect(parseJpegSize(await jpeg("cjpeg_420.jpg"))).toEqual({ width: 176, height: 144 });
    expect(parseJpegSize(new Uint8Array([1, 2, 3]))).toBeUndefined();
    const rand = seededRandom(1);
    const base = await jpeg("cjpeg_420.jpg");
    for (let i = 0; i < 500; i++) {
      const junk = base.slice(0, 2 + Math.floor(rand() * 700));
      junk[2 + Math.floor(rand() * (junk.length - 2))] = Math.floor(rand() * 256);
      parseJpegSize(junk);
    }
  });

  it("reports where a JPEG is broken", async () => {
    expect(() => parseJpeg(new Uint8Array([0, 0, 0, 0]))).toThrow(/no SOI/);
    const bytes = await jpeg("cjpeg_420.jpg");
    try {
      parseJpeg(bytes.subarray(0, 100));
      throw new Error("expected an error");
    } catch (e) {
      expect(e).toBeInstanceOf(JpegParseError);
      expect((e as JpegParseError).offset).toBeGreaterThan(0);
    }
  });
});
