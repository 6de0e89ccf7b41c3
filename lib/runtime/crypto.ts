/**
 * Synchronous block-cipher and MAC primitives from the runtime's crypto (`node:crypto`, which Node,
 * Deno and Bun all provide), for strom's SRTP sender (lib/protocol/srtp/). The point is reuse: one
 * AES-128-ECB cipher object per session key encrypts every packet's counter blocks, instead of a
 * new cipher object (and its native state) per packet.
 *
 * @module
 */
import * as nodeCrypto from "node:crypto";
import { createCipheriv, createHmac } from "node:crypto";

/** AES-128 in ECB mode under one key, set once: encrypts whole 16-byte blocks. */
export interface AesEcbEncryptor {
  /**
   * Encrypts `blocks` (a multiple of 16 bytes) and returns the ciphertext, same length. The result
   * is new memory owned by the caller; `blocks` is not changed.
   *
   * @throws {RangeError} when the length is not a multiple of 16.
   */
  encryptBlocks(blocks: Uint8Array): Uint8Array;
}

/**
 * A reusable AES-128-ECB encryptor for `key` (16 bytes). No padding: input is whole blocks.
 *
 * @throws {RangeError} when the key is not 16 bytes.
 * @example
 * ```ts
 * const aes = aes128EcbEncryptor(new Uint8Array(16));
 * const out = aes.encryptBlocks(new Uint8Array(32)); // two blocks
 * ```
 */
export function aes128EcbEncryptor(key: Uint8Array): AesEcbEncryptor {
  if (key.length !== 16) throw new RangeError(`AES-128 needs a 16-byte key, got ${key.length} bytes`);
  const cipher = createCipheriv("aes-128-ecb", key, null);
  cipher.setAutoPadding(false);
  return {
    encryptBlocks(blocks: Uint8Array): Uint8Array {
      if (blocks.length % 16 !== 0) {
        throw new RangeError(`AES-ECB input must be whole 16-byte blocks, got ${blocks.length} bytes`);
      }
      // ECB with padding off never holds bytes back, so update() returns exactly the input's length.
      return cipher.update(blocks);
    },
  };
}

/**
 * HMAC-SHA1 of `parts` under `key` through the runtime (one native HMAC object per call): the
 * reference the pure-TypeScript {@link HmacSha1} of lib/protocol/srtp/sha1.ts is checked and
 * measured against.
 *
 * @example
 * ```ts
 * const tag = hmacSha1Native(new Uint8Array(20), [new TextEncoder().encode("abc")]); // 20 bytes
 * ```
 */
export function hmacSha1Native(key: Uint8Array, parts: readonly Uint8Array[]): Uint8Array {
  const h = createHmac("sha1", key);
  for (const p of parts) h.update(p);
  return h.digest();
}

/**
 * Whether the runtime's own HMAC-SHA1 beats the TypeScript one of lib/protocol/srtp/sha1.ts for a
 * 1200-byte packet, a native HMAC object per packet included (scripts/bench/srtp_cost.ts): on Bun
 * (JavaScriptCore runs the TypeScript SHA-1 slowly, its native HMAC is cheap) yes; on Node and Deno
 * no, or not by enough to pay for a native object per packet that only the GC frees.
 */
export const nativeHmacSha1Preferred: boolean = "Bun" in globalThis;

/**
 * HMAC-SHA1 under `key` of `data[off, off + len)` followed by `trailer`, through the runtime; the
 * first `outLen` bytes of the MAC are written to `out` at `outOff`.
 *
 * @example
 * ```ts
 * hmacSha1NativeInto(authKey, packet, 0, n, rocBytes, packet, n, 10);
 * ```
 */
export function hmacSha1NativeInto(
  key: Uint8Array,
  data: Uint8Array,
  off: number,
  len: number,
  trailer: Uint8Array,
  out: Uint8Array,
  outOff: number,
  outLen: number,
): void {
  const mac = createHmac("sha1", key).update(data.subarray(off, off + len)).update(trailer).digest();
  for (let i = 0; i < outLen; i++) out[outOff + i] = mac[i];
}

/** `crypto.hash(algorithm, data, "buffer")`: Node >= 20.12, Deno and Bun have it. */
type OneShotHash = (algorithm: string, data: Uint8Array, outputEncoding: "buffer") => Uint8Array;
const oneShotHash = (nodeCrypto as unknown as { hash?: OneShotHash }).hash;

/**
 * SHA-1 of `data` in one call to the runtime's native hash, with no hash object (`crypto.hash`), or
 * undefined on a runtime without it (Node before 20.12). Returns a new 20-byte digest.
 *
 * @example
 * ```ts
 * const digest = sha1OneShot?.(new TextEncoder().encode("abc")); // a9993e36...
 * ```
 */
export const sha1OneShot: ((data: Uint8Array) => Uint8Array) | undefined = typeof oneShotHash === "function"
  ? (data) => oneShotHash("sha1", data, "buffer")
  : undefined;

/**
 * Whether {@link sha1OneShot} is the faster HMAC for a 1200-byte SRTP packet here
 * (scripts/bench/srtp_cost.ts, two calls per packet): on Node (7.8 us a protected packet against
 * 11.6 with the TypeScript HMAC) and Bun (4.0 against 4.6 with its HMAC object) yes; on Deno, whose
 * `node:crypto` calls cost more than V8 running the TypeScript SHA-1, no.
 */
export const oneShotSha1Preferred: boolean = sha1OneShot !== undefined && !("Deno" in globalThis);
