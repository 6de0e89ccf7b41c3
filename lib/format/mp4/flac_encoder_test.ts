import { describe, expect, it } from "bun:test";
import { FlacEncoder } from "./flac_encoder.ts";
import { ffmpegDecode } from "../../../tests/_support/ffmpeg.ts";
import { concatBytes, hasTool } from "../../../tests/_support/process.ts";

function sine(n: number, start: number, channels = 1): Int16Array {
  const out = new Int16Array(n * channels);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < channels; c++) {
      out[i * channels + c] = Math.round(
        12000 * Math.sin(((start + i) * 2 * Math.PI * (440 + 110 * c)) / 8000),
      );
    }
  }
  return out;
}

// The checks that need ffmpeg are skipped (and counted as skipped) when it is not on PATH.
const hasFf = await hasTool("ffmpeg");

describe("FlacEncoder", () => {
  it("writes STREAMINFO with the rate, channels and 16 bits", () => {
    const info = new FlacEncoder({ sampleRate: 44100, channels: 2 }).streamInfo();
    expect(info.length).toBe(34);
    expect((info[0] << 8) | info[1]).toBe(16);
    expect((info[2] << 8) | info[3]).toBe(4096);
    expect((info[10] << 12) | (info[11] << 4) | (info[12] >> 4)).toBe(44100);
    expect(((info[12] >> 1) & 7) + 1).toBe(2);
    expect((((info[12] & 1) << 4) | (info[13] >> 4)) + 1).toBe(16);
  });

  it("picks CONSTANT for silence and stays small for a sine", () => {
    const enc = new FlacEncoder({ sampleRate: 8000 });
    expect(enc.encode(new Int16Array(160)).length).toBeLessThan(20);
    expect(enc.encode(sine(160, 0)).length).toBeLessThan(320 * 0.75);
    expect(enc.sampleNumber).toBe(320);
    expect(() => enc.encode(new Int16Array(0))).toThrow(RangeError);
    expect(() => new FlacEncoder({ sampleRate: 8000, channels: 2 }).encode(new Int16Array(3))).toThrow(
      /whole number/,
    );
  });

  it.skipIf(!hasFf)("is lossless: ffmpeg decodes mono and stereo streams to the exact input", async () => {
    for (const channels of [1, 2]) {
      const enc = new FlacEncoder({ sampleRate: 8000, channels });
      const frames: Uint8Array[] = [enc.fileHeader()];
      const pcm: Int16Array[] = [];
      let t = 0;
      // Varying block sizes (as RTP packets do), silence, full-scale noise, tiny and big blocks.
      const sizes = [160, 160, 7, 300, 160, 1, 4096, 160, 333, 160];
      for (const [k, n] of sizes.entries()) {
        let block = sine(n, t, channels);
        if (k === 3) block = new Int16Array(n * channels);
        if (k === 4) block = block.map((_, i) => ((i * 7919 + 13) % 65536) - 32768);
        pcm.push(block);
        frames.push(enc.encode(block));
        t += n;
      }
      const decoded = await ffmpegDecode(concatBytes(frames), "flac", ["-f", "s16le", "-"]);
      expect(decoded.stderr).toBe("");
      expect(decoded.code).toBe(0);
      const want = concatBytes(pcm.map((p) => new Uint8Array(p.buffer)));
      expect(decoded.stdout.length).toBe(want.length);
      expect(decoded.stdout.every((b, i) => b === want[i])).toBe(true);
    }
  }, 20_000);

  it.skipIf(!hasFf)("numbers frames with multi-byte coded numbers, wrapping before 2^31", async () => {
    const wrap = new FlacEncoder({ sampleRate: 8000 });
    wrap.sampleNumber = 2 ** 31 - 100;
    wrap.encode(new Int16Array(160));
    expect(wrap.sampleNumber).toBe(60);
    for (const start of [70000, 3_000_000, 2 ** 31 - 320]) {
      const enc = new FlacEncoder({ sampleRate: 16000 });
      enc.sampleNumber = start;
      const block = sine(320, 0);
      const file = concatBytes([enc.fileHeader(), enc.encode(block), enc.encode(block)]);
      const decoded = await ffmpegDecode(file, "flac", ["-f", "s16le", "-"]);
      expect(decoded.code).toBe(0);
      const want = concatBytes([block, block].map((b) => new Uint8Array(b.buffer)));
      expect(decoded.stdout.length).toBe(want.length);
      expect(decoded.stdout.every((b, i) => b === want[i])).toBe(true);
    }
  }, 20_000);
});
