/**
 * HMAC-SHA1 in TypeScript for SRTP's per-packet authentication tag, with the key's inner and outer
 * pad blocks hashed once and every work array reused: a tag costs no allocation, where the runtime's
 * HMAC (`createHmac`) makes a native object per packet.
 *
 * @module
 */

const BLOCK = 64;

/** SHA-1's initial state. */
const IV = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0] as const;

/** HMAC-SHA1 under one key (RFC 2104), for messages `data[off, off + len)` plus a 32-bit trailer. */
export class HmacSha1 {
  readonly #inner = new Int32Array(5);
  readonly #outer = new Int32Array(5);
  readonly #h = new Int32Array(5);
  readonly #w = new Int32Array(80);
  /** The message's last partial block, its trailer and padding (at most two blocks). */
  readonly #tail = new Uint8Array(2 * BLOCK);

  /**
   * @param key the HMAC key, at most 64 bytes (SRTP's is 20).
   * @throws {RangeError} for a longer key.
   */
  constructor(key: Uint8Array) {
    if (key.length > BLOCK) {
      throw new RangeError(`HMAC-SHA1 keys longer than ${BLOCK} bytes are not supported, got ${key.length}`);
    }
    const pad = new Uint8Array(BLOCK);
    for (const [value, state] of [[0x36, this.#inner], [0x5c, this.#outer]] as const) {
      pad.fill(value);
      for (let i = 0; i < key.length; i++) pad[i] = key[i] ^ value;
      this.#h.set(IV);
      this.#block(pad, 0);
      state.set(this.#h);
    }
  }

  /**
   * HMAC of `data[off, off + len)` followed by `trailer` as a big-endian uint32 (SRTP's rollover
   * counter), its first `outLen` bytes (at most 20) written to `out` at `outOff`.
   *
   * @example
   * ```ts
   * const tag = new Uint8Array(10);
   * new HmacSha1(authKey).macWithTrailer(packet, 0, packet.length, roc, tag, 0, 10);
   * ```
   */
  macWithTrailer(
    data: Uint8Array,
    off: number,
    len: number,
    trailer: number,
    out: Uint8Array,
    outOff: number,
    outLen: number,
  ): void {
    const h = this.#h;
    const tail = this.#tail;
    h.set(this.#inner);
    const whole = len - (len % BLOCK);
    for (let p = 0; p < whole; p += BLOCK) this.#block(data, off + p);
    let t = 0;
    for (let p = whole; p < len; p++) tail[t++] = data[off + p];
    tail[t++] = trailer >>> 24;
    tail[t++] = (trailer >>> 16) & 0xff;
    tail[t++] = (trailer >>> 8) & 0xff;
    tail[t++] = trailer & 0xff;
    this.#finish(t, BLOCK + len + 4);
    // Outer hash over the inner digest.
    for (let i = 0; i < 5; i++) {
      const v = h[i];
      tail[i * 4] = v >>> 24;
      tail[i * 4 + 1] = (v >>> 16) & 0xff;
      tail[i * 4 + 2] = (v >>> 8) & 0xff;
      tail[i * 4 + 3] = v & 0xff;
    }
    h.set(this.#outer);
    this.#finish(20, BLOCK + 20);
    for (let i = 0; i < outLen; i++) out[outOff + i] = (h[i >> 2] >>> (24 - 8 * (i & 3))) & 0xff;
  }

  /**
   * The outer half of this key's HMAC: the tag for an inner digest (20 bytes, SHA-1 of the key's
   * inner pad followed by the message) hashed elsewhere, e.g. by the runtime's one-shot hash. One
   * compression from the outer pad's saved state. Its first `outLen` bytes (at most 20) go to `out`
   * at `outOff`.
   *
   * @example
   * ```ts
   * const tag = new Uint8Array(10);
   * hmac.outerTag(sha1(concat(innerPad, message)), tag, 0, 10);
   * ```
   */
  outerTag(innerDigest: Uint8Array, out: Uint8Array, outOff: number, outLen: number): void {
    const tail = this.#tail;
    for (let i = 0; i < 20; i++) tail[i] = innerDigest[i];
    this.#h.set(this.#outer);
    this.#finish(20, BLOCK + 20);
    const h = this.#h;
    for (let i = 0; i < outLen; i++) out[outOff + i] = (h[i >> 2] >>> (24 - 8 * (i & 3))) & 0xff;
  }

  /** Pads `tail[0, t)` (the end of a `total`-byte message) and hashes it. */
  #finish(t: number, total: number): void {
    const tail = this.#tail;
    tail[t++] = 0x80;
    const end = t + 8 <= BLOCK ? BLOCK : 2 * BLOCK;
    tail.fill(0, t, end - 4);
    const bits = total * 8; // < 2^32 for any packet
    tail[end - 4] = bits >>> 24;
    tail[end - 3] = (bits >>> 16) & 0xff;
    tail[end - 2] = (bits >>> 8) & 0xff;
    tail[end - 1] = bits & 0xff;
    this.#block(tail, 0);
    if (end > BLOCK) this.#block(tail, BLOCK);
  }

  /** SHA-1's compression of the 64 bytes at `b[p]` into the state (one loop: measured faster than
   * separate schedule and round loops on all three runtimes). */
  #block(b: Uint8Array, p: number): void {
    const w = this.#w;
    const h = this.#h;
    let a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4];
    for (let i = 0; i < 80; i++) {
      let x: number;
      if (i < 16) {
        x = (b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3];
        p += 4;
      } else {
        x = w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16];
        x = (x << 1) | (x >>> 31);
      }
      w[i] = x;
      let f: number;
      if (i < 20) f = ((bb & c) | (~bb & d)) + 0x5a827999;
      else if (i < 40) f = (bb ^ c ^ d) + 0x6ed9eba1;
      else if (i < 60) f = ((bb & c) | (bb & d) | (c & d)) + 0x8f1bbcdc;
      else f = (bb ^ c ^ d) + 0xca62c1d6;
      const t = (((a << 5) | (a >>> 27)) + f + e + x) | 0;
      e = d;
      d = c;
      c = (bb << 30) | (bb >>> 2);
      bb = a;
      a = t;
    }
    h[0] = (h[0] + a) | 0;
    h[1] = (h[1] + bb) | 0;
    h[2] = (h[2] + c) | 0;
    h[3] = (h[3] + d) | 0;
    h[4] = (h[4] + e) | 0;
  }
}
