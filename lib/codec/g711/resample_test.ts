import { describe, expect, it } from "bun:test";
import { Resampler } from "./resample.ts";
import { seededRandom } from "../../../tests/_support/fixtures.ts";

function sine(freq: number, rate: number, n: number, amp = 10000, channels = 1): Int16Array {
  const out = new Int16Array(n * channels);
  for (let i = 0; i < n; i++) {
    const v = Math.round(Math.sin((2 * Math.PI * freq * i) / rate) * amp);
    for (let c = 0; c < channels; c++) out[i * channels + c] = v;
  }
  return out;
}

/** Estimated frequency from upward zero crossings. */
function frequency(x: Int16Array, rate: number): number {
  let crossings = 0;
  for (let i = 1; i < x.length; i++) if (x[i - 1] < 0 && x[i] >= 0) crossings++;
  return (crossings * rate) / x.length;
}

function peak(x: Int16Array, skip = 0): number {
  let m = 0;
  for (let i = skip; i < x.length; i++) m = Math.max(m, Math.abs(x[i]));
  return m;
}

describe("Resampler", () => {
  for (
    const [from, to] of [[16000, 8000], [48000, 8000], [44100, 8000], [8000, 16000], [8000, 48000], [
      22050,
      8000,
    ]]
  ) {
    it(`${from} Hz -> ${to} Hz keeps pitch, level and length`, () => {
      const input = sine(440, from, from); // 1 s
      const out = new Resampler({ inputRate: from, outputRate: to }).process(input);
      expect(Math.abs(out.length - to)).toBeLessThanOrEqual(2);
      expect(Math.abs(frequency(out, to) - 440)).toBeLessThan(3);
      expect(peak(out)).toBeGreaterThan(9300);
      expect(peak(out)).toBeLessThanOrEqual(10001);
    });
  }

  it("gives the same output whatever the chunking (state carries across calls)", () => {
    const input = sine(1000, 44100, 44100);
    for (const [inputRate, outputRate] of [[44100, 8000], [44100, 96000]]) {
      const whole = new Resampler({ inputRate, outputRate }).process(input);
      const rs = new Resampler({ inputRate, outputRate });
      const rand = seededRandom(3);
      const parts: number[] = [];
      for (let p = 0; p < input.length;) {
        const n = 1 + Math.floor(rand() * 900);
        parts.push(...rs.process(input.subarray(p, p + n)));
        p += n;
      }
      expect(parts.length).toBe(whole.length);
      for (let i = 0; i < whole.length; i++) expect(Math.abs(parts[i] - whole[i])).toBeLessThanOrEqual(1);
    }
  });

  it("mixes stereo down to mono and can widen the output", () => {
    const stereo = new Int16Array([1000, 3000, -1000, -3000, 0, 500]);
    expect(Array.from(new Resampler({ inputRate: 8000, outputRate: 8000, inputChannels: 2 }).process(stereo)))
      .toEqual([2000, -2000, 250]);
    const wide = new Resampler({ inputRate: 8000, outputRate: 8000, outputChannels: 2 }).process(
      new Int16Array([5, -5]),
    );
    expect(Array.from(wide)).toEqual([5, 5, -5, -5]);
    const down = new Resampler({ inputRate: 48000, outputRate: 8000, inputChannels: 2 }).process(
      sine(440, 48000, 4800, 8000, 2),
    );
    expect(down.length).toBe(800);
  });

  it("rejects nonsense rates", () => {
    expect(() => new Resampler({ inputRate: 0, outputRate: 8000 })).toThrow(RangeError);
  });
});
