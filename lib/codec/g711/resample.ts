/**
 * A small streaming resampler for 16-bit PCM, enough for speech on G.711 paths (e.g. 16 or 48 kHz
 * microphone audio to 8 kHz PCMA for a camera's speaker, as go2rtc does).
 *
 * Downsampling averages the input samples in a window of one output period centred on each output
 * sample (a box filter, which also suppresses most aliasing); upsampling interpolates linearly. Multi-channel input is mixed down
 * to mono first; `outputChannels` > 1 duplicates the mono signal. State carries across `process()`
 * calls, so chunk boundaries make no clicks.
 *
 * @module
 */

/** Options of {@link Resampler}. */
export interface ResamplerOptions {
  inputRate: number;
  outputRate: number;
  /** Interleaved channels in the input (default 1); mixed down to mono. */
  inputChannels?: number;
  /** Interleaved channels to write (default 1); the mono signal is repeated in each. */
  outputChannels?: number;
}

/**
 * Converts interleaved 16-bit PCM between sample rates and channel counts.
 *
 * @example
 * ```ts
 * const rs = new Resampler({ inputRate: 48000, outputRate: 8000, inputChannels: 2 });
 * const mono8k = rs.process(stereo48k); // Int16Array, 1/6 the frames
 * ```
 */
export class Resampler {
  readonly inputRate: number;
  readonly outputRate: number;
  readonly inputChannels: number;
  readonly outputChannels: number;
  /** Input samples per output sample. */
  readonly #ratio: number;
  // Downsampling state: partial sum over the current output period.
  #sum = 0;
  #weight = 0;
  // Upsampling state: previous input sample and position past it (0..1).
  #prev = 0;
  #pos = 0;
  #started = false;

  constructor(opts: ResamplerOptions) {
    if (!(opts.inputRate > 0) || !(opts.outputRate > 0)) {
      throw new RangeError(`Resampler needs positive rates, got ${opts.inputRate} -> ${opts.outputRate}`);
    }
    this.inputRate = opts.inputRate;
    this.outputRate = opts.outputRate;
    this.inputChannels = Math.max(1, opts.inputChannels ?? 1);
    this.outputChannels = Math.max(1, opts.outputChannels ?? 1);
    this.#ratio = opts.inputRate / opts.outputRate;
  }

  /** Resamples one chunk of interleaved samples. */
  process(input: Int16Array): Int16Array {
    const ch = this.inputChannels;
    const frames = Math.floor(input.length / ch);
    const mono = ch === 1 ? input : mixDown(input, ch, frames);
    let out: Int16Array;
    if (this.#ratio === 1) {
      out = new Int16Array(frames);
      for (let i = 0; i < frames; i++) out[i] = clamp(Math.round(mono[i]));
    } else if (this.#ratio > 1) out = this.#down(mono, frames);
    else out = this.#up(mono, frames);
    if (this.outputChannels === 1) return out;
    const oc = this.outputChannels;
    const wide = new Int16Array(out.length * oc);
    for (let i = 0; i < out.length; i++) for (let c = 0; c < oc; c++) wide[i * oc + c] = out[i];
    return wide;
  }

  #down(src: Int16Array | Float64Array, n: number): Int16Array {
    const k = this.#ratio;
    if (!this.#started && n > 0) {
      // Centre the first window on input sample 0 (as if the signal held its first value before),
      // so output j sits at input position j*k and the stream gains no fractional delay.
      this.#started = true;
      this.#weight = k / 2 - 0.5;
      this.#sum = src[0] * this.#weight;
    }
    const out = new Int16Array(Math.ceil((n + this.#weight) / k) + 1);
    let o = 0;
    let sum = this.#sum;
    let weight = this.#weight;
    for (let i = 0; i < n; i++) {
      const s = src[i];
      if (weight + 1 < k) {
        sum += s;
        weight += 1;
        continue;
      }
      // This sample straddles the end of the output period: split its weight.
      const part = k - weight;
      sum += s * part;
      out[o++] = clamp(Math.round(sum / k));
      weight = 1 - part;
      sum = s * weight;
    }
    this.#sum = sum;
    this.#weight = weight;
    return out.subarray(0, o);
  }

  #up(src: Int16Array | Float64Array, n: number): Int16Array {
    const step = this.#ratio; // < 1
    if (n === 0) return new Int16Array(0);
    if (!this.#started) {
      this.#started = true;
      this.#prev = src[0];
      this.#pos = 0;
    }
    const out = new Int16Array(Math.ceil(n / step) + 2);
    let o = 0;
    let prev = this.#prev;
    let pos = this.#pos;
    for (let i = 0; i < n; i++) {
      const cur = src[i];
      while (pos < 1) {
        out[o++] = clamp(Math.round(prev + (cur - prev) * pos));
        pos += step;
      }
      pos -= 1;
      prev = cur;
    }
    this.#prev = prev;
    this.#pos = pos;
    return out.subarray(0, o);
  }
}

function mixDown(input: Int16Array, ch: number, frames: number): Float64Array {
  const out = new Float64Array(frames);
  for (let f = 0; f < frames; f++) {
    let s = 0;
    for (let c = 0; c < ch; c++) s += input[f * ch + c];
    out[f] = s / ch;
  }
  return out;
}

function clamp(v: number): number {
  return v > 32767 ? 32767 : v < -32768 ? -32768 : v;
}
