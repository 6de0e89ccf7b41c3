import { describe, expect, it } from "bun:test";
import {
  alawToLinear,
  decodeAlaw,
  decodeUlaw,
  encodeAlaw,
  encodeUlaw,
  linearToAlaw,
  linearToUlaw,
  ulawToLinear,
} from "./companding.ts";
import { hasTool, run } from "../../../tests/_support/process.ts";

const haveFfmpeg = await hasTool("ffmpeg");
const allCodes = Uint8Array.from({ length: 256 }, (_, i) => i);

function s16le(bytes: Uint8Array): Int16Array {
  const out = new Int16Array(bytes.length >> 1);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt16(i * 2, true);
  return out;
}

describe("G.711 companding", () => {
  it("has the reference values", () => {
    expect(alawToLinear(0xd5)).toBe(8);
    expect(alawToLinear(0x55)).toBe(-8);
    expect(alawToLinear(0xaa)).toBe(32256);
    expect(alawToLinear(0x2a)).toBe(-32256);
    expect(linearToAlaw(0)).toBe(0xd5);
    expect(ulawToLinear(0xff)).toBe(0);
    expect(ulawToLinear(0x80)).toBe(32124);
    expect(ulawToLinear(0x00)).toBe(-32124);
    expect(linearToUlaw(0)).toBe(0xff);
    expect(linearToUlaw(32767)).toBe(0x80);
    expect(linearToUlaw(-32768)).toBe(0x00);
  });

  it("re-encodes every decoded code to itself", () => {
    for (let c = 0; c < 256; c++) {
      expect(linearToAlaw(alawToLinear(c))).toBe(c);
      // µ-law has two zeros (0x7F and 0xFF); compare the decoded values.
      expect(ulawToLinear(linearToUlaw(ulawToLinear(c)))).toBe(ulawToLinear(c));
    }
  });

  it("quantizes within half a step everywhere", () => {
    for (let x = -32000; x <= 32000; x += 3) {
      const bound = Math.abs(x) / 16 + 16;
      expect(Math.abs(alawToLinear(linearToAlaw(x)) - x)).toBeLessThanOrEqual(bound);
      expect(Math.abs(ulawToLinear(linearToUlaw(x)) - x)).toBeLessThanOrEqual(bound);
    }
  });

  it("bulk helpers match the scalar ones and honour `out`", () => {
    const samples = Int16Array.from({ length: 1000 }, (_, i) => Math.round(Math.sin(i / 7) * 20000));
    const a = encodeAlaw(samples);
    const u = encodeUlaw(samples);
    expect(Array.from(a)).toEqual(Array.from(samples, linearToAlaw));
    expect(Array.from(u)).toEqual(Array.from(samples, linearToUlaw));
    expect(Array.from(decodeAlaw(a))).toEqual(Array.from(a, alawToLinear));
    const out = new Int16Array(2000);
    expect(decodeUlaw(u, out).length).toBe(1000);
  });

  it.skipIf(!haveFfmpeg)("decodes all 256 codes exactly as ffmpeg does", async () => {
    for (const [fmt, decode] of [["alaw", decodeAlaw], ["mulaw", decodeUlaw]] as const) {
      const res = await run("ffmpeg", [
        "-v",
        "error",
        "-f",
        fmt,
        "-ar",
        "8000",
        "-ac",
        "1",
        "-i",
        "pipe:0",
        "-f",
        "s16le",
        "-",
      ], 8_000, allCodes);
      expect(res.code).toBe(0);
      expect(Array.from(s16le(res.stdout))).toEqual(Array.from(decode(allCodes)));
    }
  }, 15000);

  it.skipIf(!haveFfmpeg)(
    "encodes a sine as ffmpeg does, give or take a rounding at interval edges",
    async () => {
      const samples = Int16Array.from(
        { length: 8000 },
        (_, i) => Math.round(Math.sin((2 * Math.PI * 440 * i) / 8000) * 12000),
      );
      const pcm = new Uint8Array(samples.buffer);
      for (
        const [fmt, encode, decode] of [["alaw", encodeAlaw, decodeAlaw], [
          "mulaw",
          encodeUlaw,
          decodeUlaw,
        ]] as const
      ) {
        const res = await run("ffmpeg", [
          "-v",
          "error",
          "-f",
          "s16le",
          "-ar",
          "8000",
          "-ac",
          "1",
          "-i",
          "pipe:0",
          "-f",
          fmt,
          "-",
        ], 8_000, pcm);
        expect(res.code).toBe(0);
        const ours = encode(samples);
        expect(res.stdout.length).toBe(ours.length);
        let differ = 0;
        const a = decode(ours);
        const b = decode(res.stdout);
        for (let i = 0; i < ours.length; i++) {
          if (ours[i] !== res.stdout[i]) {
            differ++;
            // Only neighbouring codes: the decoded levels are adjacent.
            expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(Math.abs(samples[i]) / 8 + 32);
          }
        }
        expect(differ).toBeLessThan(ours.length / 20);
      }
    },
    15000,
  );
});
