/**
 * MSB-first bit writer with Exp-Golomb codes, for building parameter sets in tests (private).
 *
 * @module
 */

/** Accumulates bits; `nal()` adds trailing bits and emulation prevention. */
export class BitWriter {
  readonly #bits: number[] = [];

  u(n: number, value: number): this {
    for (let i = n - 1; i >= 0; i--) this.#bits.push(Math.floor(value / 2 ** i) % 2);
    return this;
  }

  flag(on: boolean): this {
    return this.u(1, on ? 1 : 0);
  }

  ue(value: number): this {
    const v = value + 1;
    const len = Math.floor(Math.log2(v));
    this.u(len, 0);
    return this.u(len + 1, v);
  }

  se(value: number): this {
    return this.ue(value > 0 ? 2 * value - 1 : -2 * value);
  }

  /** RBSP bytes: the bits, rbsp_stop_one_bit, zero padding. */
  rbsp(): Uint8Array {
    const bits = [...this.#bits, 1];
    while (bits.length % 8) bits.push(0);
    const out = new Uint8Array(bits.length / 8);
    for (let i = 0; i < bits.length; i++) out[i >> 3] |= bits[i] << (7 - (i & 7));
    return out;
  }

  /** A NAL unit: header bytes + RBSP with emulation prevention bytes inserted. */
  nal(...header: number[]): Uint8Array {
    const out: number[] = [...header];
    let zeros = 0;
    for (const b of this.rbsp()) {
      if (zeros >= 2 && b <= 3) {
        out.push(3);
        zeros = 0;
      }
      out.push(b);
      zeros = b === 0 ? zeros + 1 : 0;
    }
    return new Uint8Array(out);
  }
}
