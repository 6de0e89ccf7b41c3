/**
 * MSB-first bit reader and writer for AAC configuration syntax (ISO/IEC 14496-3), whose fields are
 * not byte-aligned (an AudioSpecificConfig inside a LATM StreamMuxConfig starts mid-byte).
 *
 * @module
 */

/** Reading past the end of a bit string. */
export class BitReaderError extends RangeError {
  override name = "BitReaderError";
  /** Bit position where the read started. */
  readonly bitOffset: number;
  constructor(bitOffset: number, bits: number, totalBits: number) {
    super(`Cannot read ${bits} bits at bit ${bitOffset}: only ${totalBits} bits available`);
    this.bitOffset = bitOffset;
  }
}

/** Reads big-endian bit fields of up to 32 bits. */
export class BitReader {
  readonly bytes: Uint8Array;
  /** Current position in bits from the start of `bytes`. */
  pos: number;
  readonly #end: number;

  constructor(bytes: Uint8Array, bitOffset = 0, bitLength = bytes.length * 8 - bitOffset) {
    this.bytes = bytes;
    this.pos = bitOffset;
    this.#end = bitOffset + bitLength;
  }

  /** Bits left. */
  get left(): number {
    return this.#end - this.pos;
  }

  read(bits: number): number {
    if (bits === 0) return 0;
    if (this.pos + bits > this.#end) throw new BitReaderError(this.pos, bits, this.#end);
    let v = 0;
    for (let i = 0; i < bits; i++) {
      const p = this.pos + i;
      v = v * 2 + ((this.bytes[p >> 3] >> (7 - (p & 7))) & 1);
    }
    this.pos += bits;
    return v;
  }

  bool(): boolean {
    return this.read(1) === 1;
  }

  skip(bits: number): void {
    if (this.pos + bits > this.#end) throw new BitReaderError(this.pos, bits, this.#end);
    this.pos += bits;
  }

  byteAlign(): void {
    this.pos = (this.pos + 7) & ~7;
  }
}

/** Writes big-endian bit fields into a growing buffer. */
export class BitWriter {
  #bytes = new Uint8Array(16);
  #pos = 0;

  write(value: number, bits: number): void {
    for (let i = bits - 1; i >= 0; i--) {
      if (this.#pos >> 3 >= this.#bytes.length) {
        const grown = new Uint8Array(this.#bytes.length * 2);
        grown.set(this.#bytes);
        this.#bytes = grown;
      }
      const bit = Math.floor(value / 2 ** i) & 1;
      if (bit) this.#bytes[this.#pos >> 3] |= 0x80 >> (this.#pos & 7);
      this.#pos++;
    }
  }

  /** Bits written. */
  get length(): number {
    return this.#pos;
  }

  /** The bytes written, zero-padded to a whole byte. */
  bytes(): Uint8Array {
    return this.#bytes.slice(0, (this.#pos + 7) >> 3);
  }
}
