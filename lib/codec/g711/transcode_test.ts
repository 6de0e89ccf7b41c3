import { describe, expect, it } from "bun:test";
import { isPcmCodec, PcmTranscoder } from "./transcode.ts";
import { decodeAlaw, decodeUlaw, encodeUlaw } from "./companding.ts";
import { hasTool, run } from "../../../tests/_support/process.ts";

const haveFfmpeg = await hasTool("ffmpeg");

/** Signal-to-noise ratio in dB of `test` against `ref`, after finding the best alignment (±3 samples). */
function snr(ref: Int16Array, test: Int16Array): number {
  let best = -Infinity;
  for (let shift = -3; shift <= 3; shift++) {
    let sig = 0;
    let noise = 0;
    for (let i = 100; i < Math.min(ref.length, test.length) - 100; i++) {
      const d = ref[i] - test[i + shift];
      sig += ref[i] * ref[i];
      noise += d * d;
    }
    best = Math.max(best, 10 * Math.log10(sig / Math.max(1, noise)));
  }
  return best;
}

describe("PcmTranscoder", () => {
  it("knows which codecs it handles", () => {
    expect(isPcmCodec({ name: "pcma", clockRate: 8000 })).toBe(true);
    expect(isPcmCodec({ name: "OPUS", clockRate: 48000 })).toBe(false);
    expect(() => new PcmTranscoder({ name: "OPUS", clockRate: 48000 }, { name: "PCMA", clockRate: 8000 }))
      .toThrow(TypeError);
  });

  it("converts PCMU to PCMA sample for sample at the same rate", () => {
    const samples = Int16Array.from({ length: 400 }, (_, i) => Math.round(Math.sin(i / 5) * 15000));
    const pcmu = encodeUlaw(samples);
    const pcma = new PcmTranscoder({ name: "PCMU", clockRate: 8000 }, { name: "PCMA", clockRate: 8000 })
      .transcode(pcmu);
    expect(pcma.length).toBe(400);
    expect(snr(decodeUlaw(pcmu), decodeAlaw(pcma))).toBeGreaterThan(30);
  });

  it("reads L16 big-endian and PCML little-endian", () => {
    const be = new Uint8Array([0x12, 0x34, 0xff, 0xfe]);
    const le = new Uint8Array([0x34, 0x12, 0xfe, 0xff]);
    const a = new PcmTranscoder({ name: "L16", clockRate: 8000 }, { name: "PCML", clockRate: 8000 })
      .transcode(be);
    expect(a).toEqual(le);
    const b = new PcmTranscoder({ name: "PCML", clockRate: 8000 }, { name: "L16", clockRate: 8000 })
      .transcode(le);
    expect(b).toEqual(be);
  });

  it.skipIf(!haveFfmpeg)(
    "turns ffmpeg's 16 kHz L16 into 8 kHz PCMA close to ffmpeg's own conversion",
    async () => {
      const src = await run("ffmpeg", [
        "-v",
        "error",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=16000",
        "-t",
        "1",
        "-f",
        "s16be",
        "-",
      ], 8_000);
      expect(src.code).toBe(0);
      const tc = new PcmTranscoder({ name: "L16", clockRate: 16000 }, { name: "PCMA", clockRate: 8000 });
      // Feed it as 20 ms RTP-sized chunks.
      const parts: number[] = [];
      for (let p = 0; p < src.stdout.length; p += 640) {
        parts.push(
          ...tc.transcode(src.stdout.subarray(p, p + 640)),
        );
      }
      const ours = Uint8Array.from(parts);
      expect(ours.length).toBe(8000);
      const ref = await run("ffmpeg", [
        "-v",
        "error",
        "-f",
        "s16be",
        "-ar",
        "16000",
        "-ac",
        "1",
        "-i",
        "pipe:0",
        "-ar",
        "8000",
        "-f",
        "alaw",
        "-",
      ], 8_000, src.stdout);
      expect(ref.code).toBe(0);
      expect(snr(decodeAlaw(ref.stdout), decodeAlaw(ours))).toBeGreaterThan(30); // G.711 itself is ~38 dB
    },
    15000,
  );
});
