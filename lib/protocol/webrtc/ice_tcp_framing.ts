/**
 * RFC 4571 framing for ICE-TCP (RFC 6544): every STUN, DTLS, RTP and RTCP packet on a TCP
 * connection is preceded by its length as a 16-bit big-endian number. The shared ICE port
 * (ice_mux.ts) reads peers' frames with {@link FrameReader} and writes werift's packets with
 * {@link frameOf}.
 *
 * @module
 */

/** The largest packet one frame carries (the 16-bit length). */
export const MAX_FRAME = 0xffff;

/**
 * Splits a TCP byte stream into RFC 4571 frames. A frame that arrives whole inside one chunk is
 * handed out as a view of that chunk (no copy; the runtime does not reuse chunks); only a frame split
 * across chunks is gathered into a new array of its own size. Memory is bounded by one frame.
 *
 * @example
 * ```ts
 * const reader = new FrameReader();
 * conn.read((chunk) => reader.push(chunk, (frame) => { route(frame); return true; }), onEnd);
 * ```
 */
export class FrameReader {
  /** The two length bytes while only one has arrived, or -1. */
  #halfLength = -1;
  /** The frame being gathered across chunks, and how much of it is there. */
  #partial: Uint8Array | undefined;
  #filled = 0;

  /**
   * Feeds one chunk; `onFrame` is called for every complete frame in order. When `onFrame` returns
   * false the rest of the chunk is ignored (the caller is closing the connection).
   */
  push(chunk: Uint8Array, onFrame: (frame: Uint8Array) => boolean): void {
    let at = 0;
    const len = chunk.length;
    while (at < len) {
      const partial = this.#partial;
      if (partial) {
        const take = Math.min(partial.length - this.#filled, len - at);
        partial.set(chunk.subarray(at, at + take), this.#filled);
        this.#filled += take;
        at += take;
        if (this.#filled < partial.length) return;
        this.#partial = undefined;
        if (!onFrame(partial)) return;
        continue;
      }
      let size: number;
      if (this.#halfLength >= 0) {
        size = (this.#halfLength << 8) | chunk[at];
        this.#halfLength = -1;
        at += 1;
      } else if (at + 2 <= len) {
        size = (chunk[at] << 8) | chunk[at + 1];
        at += 2;
      } else {
        this.#halfLength = chunk[at];
        return;
      }
      if (size === 0) continue;
      if (at + size <= len) {
        if (!onFrame(chunk.subarray(at, at + size))) return;
        at += size;
      } else {
        this.#partial = new Uint8Array(size);
        this.#filled = 0;
      }
    }
  }
}

/**
 * One packet with its 2-byte length in front, as one array (one write, one TCP segment when small).
 *
 * @throws {RangeError} when the packet is longer than {@link MAX_FRAME}.
 *
 * @example
 * ```ts
 * conn.write(frameOf(stunResponse));
 * ```
 */
export function frameOf(packet: Uint8Array): Uint8Array {
  if (packet.length > MAX_FRAME) throw new RangeError(`an ICE-TCP frame holds at most ${MAX_FRAME} bytes, got ${packet.length}`);
  const out = new Uint8Array(packet.length + 2);
  out[0] = packet.length >> 8;
  out[1] = packet.length & 0xff;
  out.set(packet, 2);
  return out;
}
