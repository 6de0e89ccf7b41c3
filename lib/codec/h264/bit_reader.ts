/**
 * MSB-first bit reader with Exp-Golomb codes (H.264 9.1, H.265 9.2), for parameter set parsing.
 *
 * @module
 */

/**
 * A bitstream that ended early or held a value out of range, naming the syntax element.
 *
 * @example
 * ```ts
 * try { parseH264Sps(nal); } catch (e) { if (e instanceof BitstreamError) console.log(e.field, e.bitOffset); }
 * ```
 */
export class BitstreamError extends SyntaxError {
  override name = "BitstreamError";
  /** What was being parsed: "H.264 SPS", "H.265 SPS". */
  readonly what: string;
  /** Syntax element name as in the specification, e.g. `pic_width_in_mbs_minus1`. */
  readonly field: string;
  /** Bit offset in the RBSP where the element starts. */
  readonly bitOffset: number;
  constructor(what: string, field: string, bitOffset: number, reason: string) {
    super(`Cannot parse ${what}: ${field} at bit ${bitOffset} ${reason}`);
    this.what = what;
    this.field = field;
    this.bitOffset = bitOffset;
  }
}

/**
 * Reads bits most significant first. Every read names its syntax element so that errors say which
 * field of a truncated or corrupt parameter set failed.
 *
 * @example
 * ```ts
 * const r = new BitReader(nalToRbsp(sps), "H.264 SPS");
 * r.skip(8, "nal_unit_header");
 * const profileIdc = r.u(8, "profile_idc");
 * const spsId = r.ue("seq_parameter_set_id");
 * ```
 */
export class BitReader {
  /** Current position in bits. */
  pos = 0;
  readonly #data: Uint8Array;
  readonly #what: string;

  constructor(data: Uint8Array, what: string) {
    this.#data = data;
    this.#what = what;
  }

  /** Bits left to read. */
  get bitsLeft(): number {
    return this.#data.length * 8 - this.pos;
  }

  #bit(): number {
    const p = this.pos++;
    return (this.#data[p >> 3] >> (7 - (p & 7))) & 1;
  }

  /** Reads an unsigned `n`-bit number, n <= 32 (u(n) in the specifications). */
  u(n: number, field: string): number {
    if (n > this.bitsLeft) {
      throw new BitstreamError(
        this.#what,
        field,
        this.pos,
        `needs ${n} bits, ${this.bitsLeft} left: the NAL unit is truncated`,
      );
    }
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 2 + this.#bit();
    return v;
  }

  /** Reads one bit as a boolean (u(1) flags). */
  flag(field: string): boolean {
    return this.u(1, field) === 1;
  }

  /** Skips `n` bits. */
  skip(n: number, field: string): void {
    if (n > this.bitsLeft) {
      throw new BitstreamError(
        this.#what,
        field,
        this.pos,
        `needs ${n} bits, ${this.bitsLeft} left: the NAL unit is truncated`,
      );
    }
    this.pos += n;
  }

  /** Reads an unsigned Exp-Golomb number (ue(v)). */
  ue(field: string): number {
    const start = this.pos;
    let zeros = 0;
    for (;;) {
      if (this.bitsLeft <= 0) {
        throw new BitstreamError(this.#what, field, start, "runs past the end: the NAL unit is truncated");
      }
      if (this.#bit()) break;
      zeros++;
      if (zeros > 31) {
        throw new BitstreamError(
          this.#what,
          field,
          start,
          "has more than 31 leading zero bits: corrupt data",
        );
      }
    }
    if (zeros > this.bitsLeft) {
      throw new BitstreamError(this.#what, field, start, "runs past the end: the NAL unit is truncated");
    }
    return 2 ** zeros - 1 + this.u(zeros, field);
  }

  /** Reads a signed Exp-Golomb number (se(v)). */
  se(field: string): number {
    const k = this.ue(field);
    return k & 1 ? (k + 1) / 2 : k === 0 ? 0 : -(k / 2);
  }
}
