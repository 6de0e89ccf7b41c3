/**
 * RTMP chunk writer: one message to its chunks (RTMP 1.0 section 5.3). The first chunk carries a
 * full type-0 header, the rest type-3 headers (with the extended timestamp repeated when the
 * message has one, as librtmp, ffmpeg and nginx-rtmp expect). One buffer per message.
 *
 * @module
 */
import type { RtmpMessage } from "./messages.ts";

function basicHeaderSize(csid: number): number {
  return csid < 64 ? 1 : csid < 320 ? 2 : 3;
}

function writeBasicHeader(out: Uint8Array, p: number, fmt: number, csid: number): number {
  if (csid < 64) {
    out[p] = (fmt << 6) | csid;
    return p + 1;
  }
  if (csid < 320) {
    out[p] = fmt << 6;
    out[p + 1] = csid - 64;
    return p + 2;
  }
  out[p] = (fmt << 6) | 1;
  out[p + 1] = (csid - 64) & 0xff;
  out[p + 2] = (csid - 64) >> 8;
  return p + 3;
}

/**
 * Chunk writer.
 *
 * @example
 * ```ts
 * const writer = new ChunkWriter();
 * conn.write(writer.encode(controlMessage(RtmpMessageType.SET_CHUNK_SIZE, 4096)));
 * writer.chunkSize = 4096;
 * conn.write(writer.encode({ csid: 6, type: 9, streamId: 1, timestamp: 40, payload: videoTagBody }));
 * ```
 */
export class ChunkWriter {
  /** Our chunk size; change it only right after sending Set Chunk Size. */
  chunkSize = 128;

  /**
   * The chunks of one message.
   *
   * @throws {RangeError} for a chunk stream id outside 2..65599 or a payload over 16 MiB - 1.
   */
  encode(msg: RtmpMessage): Uint8Array {
    const out = new Uint8Array(this.#size(msg));
    this.#write(msg, out, 0);
    return out;
  }

  /**
   * The chunks of several messages, one after another in one buffer (one socket write for all).
   *
   * @throws {RangeError} as {@link encode}.
   */
  encodeAll(msgs: readonly RtmpMessage[]): Uint8Array {
    let size = 0;
    for (const m of msgs) size += this.#size(m);
    const out = new Uint8Array(size);
    let p = 0;
    for (const m of msgs) p = this.#write(m, out, p);
    return out;
  }

  #size(msg: RtmpMessage): number {
    const { csid } = msg;
    if (csid < 2 || csid > 65599) throw new RangeError(`Cannot write RTMP chunk stream ${csid}: valid ids are 2..65599`);
    const length = msg.payload.length;
    if (length > 0xffffff) throw new RangeError(`Cannot write a ${length}-byte RTMP message: the limit is 16777215`);
    const extended = msg.timestamp >>> 0 >= 0xffffff;
    const bh = basicHeaderSize(csid);
    const chunks = Math.max(1, Math.ceil(length / this.chunkSize));
    return bh + 11 + (extended ? 4 : 0) + length + (chunks - 1) * (bh + (extended ? 4 : 0));
  }

  #write(msg: RtmpMessage, out: Uint8Array, start: number): number {
    const { csid, payload } = msg;
    const length = payload.length;
    const ts = msg.timestamp >>> 0;
    const extended = ts >= 0xffffff;
    const cs = this.chunkSize;
    const chunks = Math.max(1, Math.ceil(length / cs));
    let p = writeBasicHeader(out, start, 0, csid);
    const field = extended ? 0xffffff : ts;
    out[p] = field >>> 16;
    out[p + 1] = (field >>> 8) & 0xff;
    out[p + 2] = field & 0xff;
    out[p + 3] = length >>> 16;
    out[p + 4] = (length >>> 8) & 0xff;
    out[p + 5] = length & 0xff;
    out[p + 6] = msg.type;
    const sid = msg.streamId >>> 0;
    out[p + 7] = sid & 0xff;
    out[p + 8] = (sid >>> 8) & 0xff;
    out[p + 9] = (sid >>> 16) & 0xff;
    out[p + 10] = sid >>> 24;
    p += 11;
    if (extended) p = writeU32(out, p, ts);
    let off = 0;
    for (let i = 0; i < chunks; i++) {
      if (i > 0) {
        p = writeBasicHeader(out, p, 3, csid);
        if (extended) p = writeU32(out, p, ts);
      }
      const n = Math.min(cs, length - off);
      out.set(payload.subarray(off, off + n), p);
      p += n;
      off += n;
    }
    return p;
  }
}

function writeU32(out: Uint8Array, p: number, v: number): number {
  out[p] = v >>> 24;
  out[p + 1] = (v >>> 16) & 0xff;
  out[p + 2] = (v >>> 8) & 0xff;
  out[p + 3] = v & 0xff;
  return p + 4;
}
