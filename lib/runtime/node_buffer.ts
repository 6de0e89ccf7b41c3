/**
 * A Node `Buffer` view over bytes, for libraries written against Node that call Buffer methods on
 * what they are handed (werift's STUN/DTLS/SRTP parsers). No copy.
 *
 * @module
 */
import { Buffer } from "node:buffer";

/**
 * `data` as a Buffer sharing its memory (the same object when it is one already).
 *
 * @example
 * ```ts
 * const buf = asNodeBuffer(new Uint8Array([1, 2])); // buf.readUInt16BE(0) === 0x0102
 * ```
 */
export function asNodeBuffer(data: Uint8Array): Uint8Array {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * `size` bytes whose contents are not cleared, for a buffer the caller fills completely before
 * reading (an outgoing packet). On Node and Bun small sizes come from a shared slab, cheaper than
 * `new Uint8Array(size)`.
 *
 * @example
 * ```ts
 * const out = allocUnfilled(1210); // then write every byte
 * ```
 */
export function allocUnfilled(size: number): Uint8Array {
  return Buffer.allocUnsafe(size);
}
