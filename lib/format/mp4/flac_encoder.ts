/**
 * A small FLAC encoder (https://www.rfc-editor.org/rfc/rfc9639) so that G.711 / PCM audio from
 * cameras becomes playable in MSE and MP4 players, which do not decode G.711 (go2rtc does the same).
 *
 * Each call to {@link FlacEncoder.encode} makes one FLAC frame. The stream uses the variable
 * block-size strategy (RFC 9639 section 9.1.1), so every frame may hold a different number of
 * samples (RTP packets vary) and is numbered by its first sample. Per channel the encoder picks the
 * smallest of: CONSTANT (silence), FIXED prediction of order 0..4 with one Rice partition, or
 * VERBATIM.
 *
 * Frame layout (RFC 9639 section 9):
 *
 * ```text
 * 1111 1111 1111 10 0 1      sync, reserved, blocking strategy = variable
 * bbbb ssss                  block size code (0110/0111: 8/16-bit value at the end), sample rate code
 * cccc zzz 0                 channel assignment (independent), sample size code, reserved
 * UTF-8-like coded number    number of the first sample
 * [block size - 1]           8 or 16 bits
 * [sample rate]              16 bits (Hz) when the rate has no code
 * CRC-8                      of the header
 * subframe per channel, zero padding to a byte, CRC-16 of the whole frame
 * ```
 *
 * @module
 */

/** Options of a {@link FlacEncoder}. */
export interface FlacEncoderOptions {
  sampleRate: number;
  /** 1..8. Default 1. */
  channels?: number;
  /** Largest block accepted by {@link FlacEncoder.encode}; longer input must be split. Default 4096. */
  maxBlockSize?: number;
}

const BITS = 16;

// RFC 9639 section 9.1.2: sample rates with a 4-bit code.
const RATE_CODES: Record<number, number> = {
  88200: 1,
  176400: 2,
  192000: 3,
  8000: 4,
  16000: 5,
  22050: 6,
  24000: 7,
  32000: 8,
  44100: 9,
  48000: 10,
  96000: 11,
};

const CRC8 = new Uint8Array(256);
const CRC16 = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let c = i;
  for (let j = 0; j < 8; j++) c = c & 0x80 ? ((c << 1) ^ 0x07) & 0xff : (c << 1) & 0xff;
  CRC8[i] = c;
  let d = i << 8;
  for (let j = 0; j < 8; j++) d = d & 0x8000 ? ((d << 1) ^ 0x8005) & 0xffff : (d << 1) & 0xffff;
  CRC16[i] = d;
}

/** MSB-first bit writer over a scratch buffer. `write` takes at most 24 bits at a time. */
class BitWriter {
  buf: Uint8Array;
  pos = 0;
  acc = 0;
  nbits = 0;
  constructor(size: number) {
    this.buf = new Uint8Array(size);
  }
  reset(size: number): void {
    if (this.buf.length < size) this.buf = new Uint8Array(size);
    this.pos = 0;
    this.acc = 0;
    this.nbits = 0;
  }
  write(value: number, n: number): void {
    this.acc = (this.acc << n) | (value & ((1 << n) - 1));
    this.nbits += n;
    while (this.nbits >= 8) {
      this.nbits -= 8;
      this.buf[this.pos++] = (this.acc >>> this.nbits) & 0xff;
    }
    this.acc &= (1 << this.nbits) - 1;
  }
  zeros(n: number): void {
    while (n > 24) {
      this.write(0, 24);
      n -= 24;
    }
    if (n > 0) this.write(0, n);
  }
  align(): void {
    if (this.nbits > 0) this.write(0, 8 - this.nbits);
  }
}

/**
 * Encodes 16-bit PCM into FLAC frames.
 *
 * @example
 * ```ts
 * const flac = new FlacEncoder({ sampleRate: 8000 });
 * const dfLaPayload = flac.streamInfo(); // STREAMINFO for the MP4 sample entry
 * const frame = flac.encode(pcm16);      // one FLAC frame = one MP4 sample
 * ```
 */
export class FlacEncoder {
  readonly sampleRate: number;
  readonly channels: number;
  readonly maxBlockSize: number;
  /**
   * Number of the next frame's first sample. Wraps at 2^31: the 7-byte coded numbers above that are
   * valid FLAC but rejected by ffmpeg's decoder (and so by browsers), and MP4 samples carry their
   * timing in the container anyway.
   */
  sampleNumber = 0;
  readonly #bw: BitWriter;
  #residual: Int32Array;
  #channel: Int32Array;

  constructor(options: FlacEncoderOptions) {
    const channels = options.channels ?? 1;
    if (!(options.sampleRate > 0 && options.sampleRate < 1 << 20)) {
      throw new RangeError(`Cannot encode FLAC at ${options.sampleRate} Hz: the rate must be 1..1048575`);
    }
    if (!(channels >= 1 && channels <= 8)) {
      throw new RangeError(`Cannot encode FLAC with ${channels} channels: 1..8 allowed`);
    }
    this.sampleRate = options.sampleRate;
    this.channels = channels;
    this.maxBlockSize = Math.min(options.maxBlockSize ?? 4096, 65535);
    this.#bw = new BitWriter(64 + channels * (this.maxBlockSize * 2 + 8));
    this.#residual = new Int32Array(this.maxBlockSize);
    this.#channel = new Int32Array(this.maxBlockSize);
  }

  /**
   * The 34-byte STREAMINFO metadata block body (RFC 9639 section 8.2): block sizes 16..max, sizes
   * and total unknown (0), no MD5.
   *
   * @example
   * ```ts
   * const info = new FlacEncoder({ sampleRate: 8000 }).streamInfo(); // 34 bytes
   * ```
   */
  streamInfo(): Uint8Array {
    const out = new Uint8Array(34);
    out[0] = 0;
    out[1] = 16;
    out[2] = this.maxBlockSize >> 8;
    out[3] = this.maxBlockSize & 0xff;
    // min/max frame size: 0 = unknown (bytes 4..9 stay 0).
    const rate = this.sampleRate;
    out[10] = (rate >> 12) & 0xff;
    out[11] = (rate >> 4) & 0xff;
    out[12] = ((rate & 0xf) << 4) | (((this.channels - 1) & 7) << 1) | (((BITS - 1) >> 4) & 1);
    out[13] = ((BITS - 1) & 0xf) << 4; // total samples (36 bits) = 0: unknown
    return out;
  }

  /**
   * A complete native FLAC stream header: `fLaC` + the STREAMINFO block marked last. Prepend it to
   * frames to write a `.flac` file.
   *
   * @example
   * ```ts
   * const file = concat(enc.fileHeader(), ...frames);
   * ```
   */
  fileHeader(): Uint8Array {
    const out = new Uint8Array(4 + 4 + 34);
    out.set([0x66, 0x4c, 0x61, 0x43, 0x80, 0, 0, 34]);
    out.set(this.streamInfo(), 8);
    return out;
  }

  /**
   * Encodes one block of interleaved 16-bit samples as one FLAC frame.
   *
   * @throws {RangeError} when the block is empty, longer than `maxBlockSize`, or not a whole number
   * of samples per channel.
   * @example
   * ```ts
   * const frame = enc.encode(new Int16Array(160));
   * ```
   */
  encode(samples: Int16Array): Uint8Array {
    const ch = this.channels;
    const n = samples.length / ch;
    if (!Number.isInteger(n) || n < 1 || n > this.maxBlockSize) {
      throw new RangeError(
        `Cannot encode a FLAC frame of ${samples.length} samples for ${ch} channel(s): ` +
          `need a whole number of 1..${this.maxBlockSize} samples per channel`,
      );
    }
    const bw = this.#bw;
    bw.reset(64 + ch * (n * 2 + 8));
    this.#writeHeader(bw, n);
    const x = this.#channel;
    for (let c = 0; c < ch; c++) {
      for (let i = 0; i < n; i++) x[i] = samples[i * ch + c];
      this.#writeSubframe(bw, x, n);
    }
    bw.align();
    let crc = 0;
    for (let i = 0; i < bw.pos; i++) crc = ((crc << 8) & 0xffff) ^ CRC16[(crc >> 8) ^ bw.buf[i]];
    bw.write(crc >> 8, 8);
    bw.write(crc & 0xff, 8);
    this.sampleNumber = (this.sampleNumber + n) % 0x80000000;
    return bw.buf.slice(0, bw.pos);
  }

  #writeHeader(bw: BitWriter, n: number): void {
    bw.write(0xfff9, 16); // sync 0b11111111111110, reserved 0, variable block size
    const bsCode = n <= 256 ? 6 : 7;
    const rateCode = RATE_CODES[this.sampleRate] ?? (this.sampleRate <= 0xffff ? 13 : 0);
    bw.write((bsCode << 4) | rateCode, 8);
    bw.write(((this.channels - 1) << 4) | (4 << 1), 8); // independent channels, 16 bits/sample
    writeCodedNumber(bw, this.sampleNumber);
    if (bsCode === 6) bw.write(n - 1, 8);
    else bw.write(n - 1, 16);
    if (rateCode === 13) bw.write(this.sampleRate, 16);
    let crc = 0;
    for (let i = 0; i < bw.pos; i++) crc = CRC8[crc ^ bw.buf[i]];
    bw.write(crc, 8);
  }

  #writeSubframe(bw: BitWriter, x: Int32Array, n: number): void {
    let constant = true;
    for (let i = 1; i < n; i++) {
      if (x[i] !== x[0]) {
        constant = false;
        break;
      }
    }
    if (constant) {
      bw.write(0, 8); // pad 0, type 000000 CONSTANT, no wasted bits
      bw.write(x[0] & 0xffff, 16);
      return;
    }
    // Pick the fixed predictor order with the smallest sum of absolute residuals (RFC 9639 9.2.5).
    let bestOrder = -1;
    let bestSum = Infinity;
    for (let order = 0; order <= 4 && order < n; order++) {
      let sum = 0;
      for (let i = order; i < n; i++) sum += Math.abs(fixedResidual(x, i, order));
      if (sum < bestSum) {
        bestSum = sum;
        bestOrder = order;
      }
    }
    const verbatimBits = 8 + n * BITS;
    if (bestOrder >= 0) {
      const order = bestOrder;
      const res = this.#residual;
      const count = n - order;
      for (let i = order; i < n; i++) {
        const r = fixedResidual(x, i, order);
        res[i - order] = (r << 1) ^ (r >> 31); // zigzag fold
      }
      let bestK = 0;
      let bestBits = Infinity;
      for (let k = 0; k <= 14; k++) {
        let bits = count * (k + 1);
        for (let i = 0; i < count; i++) bits += res[i] >>> k;
        if (bits < bestBits) {
          bestBits = bits;
          bestK = k;
        }
      }
      const fixedBits = 8 + order * BITS + 2 + 4 + 4 + bestBits;
      if (fixedBits < verbatimBits) {
        bw.write(0x10 | (order << 1), 8); // pad 0, type 001xxx FIXED order xxx, no wasted bits
        for (let i = 0; i < order; i++) bw.write(x[i] & 0xffff, 16);
        bw.write(0, 2); // residual coding: 4-bit Rice parameters
        bw.write(0, 4); // partition order 0
        bw.write(bestK, 4);
        const mask = (1 << bestK) - 1;
        for (let i = 0; i < count; i++) {
          const u = res[i];
          bw.zeros(u >>> bestK);
          bw.write(1, 1);
          if (bestK) bw.write(u & mask, bestK);
        }
        return;
      }
    }
    bw.write(0x02, 8); // pad 0, type 000001 VERBATIM, no wasted bits
    for (let i = 0; i < n; i++) bw.write(x[i] & 0xffff, 16);
  }
}

/** Residual of the fixed polynomial predictor of `order` at sample `i` (RFC 9639 section 9.2.5). */
function fixedResidual(x: Int32Array, i: number, order: number): number {
  switch (order) {
    case 0:
      return x[i];
    case 1:
      return x[i] - x[i - 1];
    case 2:
      return x[i] - 2 * x[i - 1] + x[i - 2];
    case 3:
      return x[i] - 3 * x[i - 1] + 3 * x[i - 2] - x[i - 3];
    default:
      return x[i] - 4 * x[i - 1] + 6 * x[i - 2] - 4 * x[i - 3] + x[i - 4];
  }
}

/** The UTF-8-like coding of frame/sample numbers (RFC 9639 section 9.1.5), up to 36 bits. */
function writeCodedNumber(bw: BitWriter, v: number): void {
  if (v < 0x80) {
    bw.write(v, 8);
    return;
  }
  let bytes: number;
  if (v < 0x800) bytes = 2;
  else if (v < 0x10000) bytes = 3;
  else if (v < 0x200000) bytes = 4;
  else if (v < 0x4000000) bytes = 5;
  else if (v < 0x80000000) bytes = 6;
  else bytes = 7;
  const cont = bytes - 1;
  // Leading byte: `bytes` ones, a zero, then the top bits.
  const topBits = bytes === 7 ? 0 : 7 - bytes;
  const top = Math.floor(v / 2 ** (6 * cont));
  const lead = bytes === 7 ? 0xfe : (0xff00 >> bytes) & 0xff;
  bw.write(lead | (topBits > 0 ? top & ((1 << topBits) - 1) : 0), 8);
  for (let i = cont - 1; i >= 0; i--) bw.write(0x80 | (Math.floor(v / 2 ** (6 * i)) & 0x3f), 8);
}
