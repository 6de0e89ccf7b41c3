/**
 * Sequential big-endian byte writer shared by the container writers (private to lib/format):
 * MP4 boxes ({@link BoxWriter} in mp4/mp4_box.ts extends it) and AMF0 values (flv/amf0.ts).
 *
 * It grows on demand (doubling) for small structures, or can be given an exact capacity for hot
 * paths (MP4 fragments), where it then never reallocates.
 *
 * @module
 */

/**
 * Growable big-endian writer over one `Uint8Array`.
 *
 * @example
 * ```ts
 * const w = new ByteWriter(16);
 * w.u8(2); w.u16(0x0102); w.f64(1.5);
 * const bytes = w.toBytes();
 * ```
 */
export class ByteWriter {
  buf: Uint8Array;
  view: DataView;
  pos = 0;
  readonly #fixed: boolean;

  /**
   * @param capacity initial size in bytes.
   * @param fixed when true the capacity is exact and overrunning it is a bug (throws RangeError).
   */
  constructor(capacity = 1024, fixed = false) {
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
    this.#fixed = fixed;
  }

  /** Makes room for `n` more bytes (doubling), or throws RangeError on a fixed writer. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    if (this.#fixed) {
      throw new RangeError(
        `${this.constructor.name} overflow: ${this.pos + n} > fixed capacity ${this.buf.length}`,
      );
    }
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }
  u16(v: number): void {
    this.ensure(2);
    this.view.setUint16(this.pos, v);
    this.pos += 2;
  }
  u24(v: number): void {
    this.ensure(3);
    this.buf[this.pos] = (v >>> 16) & 0xff;
    this.buf[this.pos + 1] = (v >>> 8) & 0xff;
    this.buf[this.pos + 2] = v & 0xff;
    this.pos += 3;
  }
  u32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, v >>> 0);
    this.pos += 4;
  }
  i32(v: number): void {
    this.ensure(4);
    this.view.setInt32(this.pos, v);
    this.pos += 4;
  }
  /** Unsigned 64-bit from a JS number (exact up to 2^53). */
  u64(v: number): void {
    this.ensure(8);
    this.view.setUint32(this.pos, Math.floor(v / 0x100000000));
    this.view.setUint32(this.pos + 4, v >>> 0);
    this.pos += 8;
  }
  /** IEEE 754 double. */
  f64(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, v);
    this.pos += 8;
  }
  /** Four ASCII characters (an MP4 box type or brand). */
  fourcc(s: string): void {
    this.ensure(4);
    for (let i = 0; i < 4; i++) this.buf[this.pos + i] = s.charCodeAt(i);
    this.pos += 4;
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  zeros(n: number): void {
    this.ensure(n);
    this.buf.fill(0, this.pos, this.pos + n);
    this.pos += n;
  }

  /** The written bytes as a view (no copy). */
  bytesView(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
  /** The written bytes as a tight copy. */
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}
