/**
 * SRTP protection of outgoing RTP packets for AES_CM_128_HMAC_SHA1_80 (RFC 3711): AES in counter
 * mode over the payload, then an 80-bit HMAC-SHA1 tag over header, encrypted payload and the
 * rollover counter. The keystream comes from one reused AES-128-ECB cipher object, for
 * {@link SRTP_KEYSTREAM_BATCH} packets of an SSRC in one call: the counter blocks depend only on the
 * SSRC, the packet index and the block number, so the keystream of the packets that will follow is
 * computed with the current one (a call's fixed cost is several times the AES work of a 1200-byte
 * packet, scripts/bench/srtp_cost.ts), and a packet sent again later (NACK) gets its own.
 *
 * The tag: where the caller leaves {@link SRTP_HMAC_HEADROOM} bytes free before the packet and the
 * runtime has a one-shot native hash (`crypto.hash`), HMAC-SHA1's inner hash is one of those calls
 * (the key's inner pad written into that headroom, so header, payload and rollover counter are
 * hashed in place) and its outer hash one SHA-1 block in TypeScript from the outer pad's saved
 * state (a second native call cost more, scripts/bench/srtp_cost.ts); otherwise {@link HmacSha1}
 * in TypeScript with its key pads hashed once, or the runtime's HMAC object on Bun.
 *
 * @module
 */
import {
  aes128EcbEncryptor,
  type AesEcbEncryptor,
  hmacSha1NativeInto,
  nativeHmacSha1Preferred,
  oneShotSha1Preferred,
  sha1OneShot,
} from "../../runtime/crypto.ts";
import { deriveSrtpKeys, type SrtpSessionKeys } from "./kdf.ts";
import { HmacSha1 } from "./sha1.ts";

/** Bytes of the authentication tag appended to every packet. */
export const SRTP_AUTH_TAG_LENGTH = 10;

/**
 * Free bytes before the packet (its `offset` in the buffer passed to {@link SrtpProtector.protect})
 * that let the tag's inner hash come from one one-shot native hash instead of the TypeScript HMAC:
 * SHA-1's block, where the key's inner pad goes.
 */
export const SRTP_HMAC_HEADROOM = 64;

/**
 * Packets of one SSRC whose keystream is computed in one AES call: the packet being protected and
 * the ones after it. 16 x 1200-byte packets: 19 KB of keystream per SSRC.
 */
export const SRTP_KEYSTREAM_BATCH = 16;

/** Payloads longer than this many blocks (2 KB) get keystream for themselves only. */
const BATCH_MAX_BLOCKS = 128;

/**
 * Per-SSRC sender state: the rollover counter and the highest sequence number sent (s_l), and the
 * keystream of `ksCount` packets from index `ksFirst` on (packet index: ROC * 2^16 + SEQ),
 * `ksBlocks` blocks each, also as 32-bit words (`ksWords`); `ks` is undefined until the first packet.
 */
interface SsrcState {
  roc: number;
  highest: number;
  ksFirst: number;
  ksCount: number;
  ksBlocks: number;
  ks: Uint8Array | undefined;
  ksWords: Int32Array | undefined;
}

const newState = (roc: number, highest: number): SsrcState => ({
  roc,
  highest,
  ksFirst: -1,
  ksCount: 0,
  ksBlocks: 0,
  ks: undefined,
  ksWords: undefined,
});

/**
 * Counter blocks of the packets being encrypted, shared by every protector (filled and encrypted in
 * one synchronous call), grown on first use to the largest batch needed.
 */
let counters = new Uint8Array(0);
/** {@link counters} as 32-bit words: a counter block is four stores, not sixteen. */
let counterWords = new Int32Array(0);

/** Whether this machine stores the low byte of a word first (x86, ARM in practice). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The 32-bit word whose bytes in memory are `b0 b1 b2 b3`. */
function word(b0: number, b1: number, b2: number, b3: number): number {
  return LITTLE_ENDIAN
    ? (b0 | (b1 << 8) | (b2 << 16) | (b3 << 24))
    : ((b0 << 24) | (b1 << 16) | (b2 << 8) | b3);
}

/** Options of a {@link SrtpProtector}. */
export interface SrtpProtectorOptions {
  /** HMAC through the runtime's HMAC object instead of TypeScript (when there is no headroom). Default: what measured faster on this runtime. */
  nativeHmac?: boolean;
  /**
   * Use the runtime's one-shot SHA-1 when a packet has {@link SRTP_HMAC_HEADROOM} free bytes before
   * it. Default: where it measured faster (`oneShotSha1Preferred`: Node and Bun, not Deno).
   */
  oneShotHash?: boolean;
}

/** Protects RTP packets of any number of SSRCs under one master key and salt. */
export class SrtpProtector {
  readonly #aes: AesEcbEncryptor;
  readonly #hmac: HmacSha1;
  /** The auth key, when the runtime's HMAC is used instead (see `nativeHmacSha1Preferred`). */
  readonly #nativeKey: Uint8Array | undefined;
  readonly #roc = new Uint8Array(4);
  /** The key XOR ipad (64 bytes), written before the packet for the one-shot inner hash. */
  readonly #ipad: Uint8Array | undefined;
  readonly #salt: Uint8Array;
  readonly #states = new Map<number, SsrcState>();
  /** A 32-bit view of the last packet buffer's memory, for the XOR. */
  #packetWords: Int32Array | undefined;
  #lastSsrc = -1;
  #last: SsrcState | undefined;

  /**
   * @param masterKey 16 bytes (from the DTLS-SRTP key export).
   * @param masterSalt 14 bytes.
   * @throws {SrtpKeyError} when a length is wrong.
   */
  constructor(masterKey: Uint8Array, masterSalt: Uint8Array, options?: SrtpProtectorOptions);
  /** @param keys session keys already derived (RFC 3711's test vectors start from these). */
  constructor(keys: SrtpSessionKeys, options?: SrtpProtectorOptions);
  constructor(
    masterKeyOrKeys: Uint8Array | SrtpSessionKeys,
    masterSaltOrOptions?: Uint8Array | SrtpProtectorOptions,
    maybeOptions?: SrtpProtectorOptions,
  ) {
    const masterSalt = masterSaltOrOptions instanceof Uint8Array ? masterSaltOrOptions : undefined;
    const options = masterSaltOrOptions instanceof Uint8Array ? maybeOptions : masterSaltOrOptions;
    const keys = masterKeyOrKeys instanceof Uint8Array
      ? deriveSrtpKeys(masterKeyOrKeys, masterSalt ?? new Uint8Array(0))
      : masterKeyOrKeys;
    this.#aes = aes128EcbEncryptor(keys.encryptionKey);
    this.#hmac = new HmacSha1(keys.authKey);
    this.#nativeKey = (options?.nativeHmac ?? nativeHmacSha1Preferred) ? keys.authKey : undefined;
    this.#salt = keys.salt;
    if ((options?.oneShotHash ?? oneShotSha1Preferred) && sha1OneShot && keys.authKey.length <= 64) {
      const ipad = new Uint8Array(64).fill(0x36);
      for (let i = 0; i < keys.authKey.length; i++) ipad[i] ^= keys.authKey[i];
      this.#ipad = ipad;
    }
  }

  /**
   * Protects the RTP packet in `packet[offset, offset + headerLength + payloadLength)` in place:
   * encrypts the payload and writes the tag right after it (`packet` must have
   * {@link SRTP_AUTH_TAG_LENGTH} bytes of room there). With `offset >=` {@link SRTP_HMAC_HEADROOM}
   * the bytes before the packet are scratch (overwritten). Returns the SRTP packet's length.
   * `ssrc` and `sequenceNumber` must be the header's.
   *
   * @example
   * ```ts
   * const out = new Uint8Array(SRTP_HMAC_HEADROOM + 12 + payload.length + SRTP_AUTH_TAG_LENGTH);
   * out.set(header, SRTP_HMAC_HEADROOM); out.set(payload, SRTP_HMAC_HEADROOM + 12);
   * const n = protector.protect(out, 12, payload.length, ssrc, seq, SRTP_HMAC_HEADROOM);
   * // send out.subarray(SRTP_HMAC_HEADROOM, SRTP_HMAC_HEADROOM + n)
   * ```
   */
  protect(
    packet: Uint8Array,
    headerLength: number,
    payloadLength: number,
    ssrc: number,
    sequenceNumber: number,
    offset = 0,
  ): number {
    const roc = this.#rollover(ssrc >>> 0, sequenceNumber & 0xffff);
    if (payloadLength > 0) {
      this.#encrypt(packet, offset + headerLength, payloadLength, ssrc, roc, sequenceNumber & 0xffff);
    }
    const end = offset + headerLength + payloadLength;
    if (this.#ipad && offset >= SRTP_HMAC_HEADROOM) {
      // HMAC = H(K^opad || H(K^ipad || packet || ROC)), the inner input laid out in place: the pad
      // in the headroom, the ROC where the tag goes.
      const start = offset - SRTP_HMAC_HEADROOM;
      packet.set(this.#ipad, start);
      packet[end] = roc >>> 24, packet[end + 1] = (roc >>> 16) & 0xff;
      packet[end + 2] = (roc >>> 8) & 0xff, packet[end + 3] = roc & 0xff;
      this.#hmac.outerTag(sha1OneShot!(packet.subarray(start, end + 4)), packet, end, SRTP_AUTH_TAG_LENGTH);
    } else if (this.#nativeKey) {
      const r = this.#roc;
      r[0] = roc >>> 24, r[1] = (roc >>> 16) & 0xff, r[2] = (roc >>> 8) & 0xff, r[3] = roc & 0xff;
      hmacSha1NativeInto(this.#nativeKey, packet, offset, end - offset, r, packet, end, SRTP_AUTH_TAG_LENGTH);
    } else {
      this.#hmac.macWithTrailer(packet, offset, end - offset, roc, packet, end, SRTP_AUTH_TAG_LENGTH);
    }
    return end - offset + SRTP_AUTH_TAG_LENGTH;
  }

  /**
   * Continues an SSRC that another SRTP sender protected so far: its rollover counter and the
   * highest sequence number it sent (both under the same keys).
   */
  seed(ssrc: number, roc: number, highestSequenceNumber: number): void {
    this.#states.set(ssrc >>> 0, newState(roc >>> 0, highestSequenceNumber & 0xffff));
    this.#lastSsrc = -1;
    this.#last = undefined;
  }

  /** The rollover counter this SSRC's packet `seq` is sent under (RFC 3711 3.3.1, Appendix A). */
  #rollover(ssrc: number, seq: number): number {
    let s = this.#lastSsrc === ssrc ? this.#last : this.#states.get(ssrc);
    if (!s) {
      s = newState(0, seq);
      this.#states.set(ssrc, s);
      this.#lastSsrc = ssrc;
      this.#last = s;
      return 0;
    }
    this.#lastSsrc = ssrc;
    this.#last = s;
    let v = s.roc;
    if (s.highest < 0x8000) {
      // A sequence number far above s_l is a retransmission from before the last wrap.
      if (seq - s.highest > 0x8000) v = s.roc - 1;
    } else if (s.highest - 0x8000 > seq) {
      v = s.roc + 1;
    }
    if (v < 0) return 0; // from before the first packet sent: nothing to go back to
    v >>>= 0;
    if (v !== s.roc ? v === ((s.roc + 1) >>> 0) : seq > s.highest) {
      s.roc = v;
      s.highest = seq;
    }
    return v;
  }

  /** XORs the AES-CM keystream for (ssrc, roc, seq) into `packet[off, off + len)`. */
  #encrypt(packet: Uint8Array, off: number, len: number, ssrc: number, roc: number, seq: number): void {
    const blocks = (len + 15) >>> 4;
    const index = roc * 0x10000 + seq;
    // #rollover has just looked this SSRC up.
    const s = this.#last!;
    let ks = s.ks;
    let at = (index - s.ksFirst) * s.ksBlocks * 16;
    if (ks === undefined || index < s.ksFirst || index >= s.ksFirst + s.ksCount || blocks > s.ksBlocks) {
      if (ks !== undefined && index < s.ksFirst) {
        // Sent again (NACK) from before the batch: its own keystream, the batch stays.
        ks = this.#keystream(ssrc, index, 1, blocks);
        at = 0;
      } else {
        // As many blocks per packet as the largest payload of this SSRC so far (of those batched).
        const prev = s.ksBlocks <= BATCH_MAX_BLOCKS ? s.ksBlocks : 0;
        const per = blocks > prev ? blocks : prev;
        const count = per <= BATCH_MAX_BLOCKS ? SRTP_KEYSTREAM_BATCH : 1;
        ks = this.#keystream(ssrc, index, count, per);
        s.ks = ks;
        s.ksWords = (ks.byteOffset & 3) === 0
          ? new Int32Array(ks.buffer, ks.byteOffset, ks.length >>> 2)
          : undefined;
        s.ksFirst = index;
        s.ksCount = count;
        s.ksBlocks = per;
        at = 0;
      }
    }
    let i = 0;
    const pAt = packet.byteOffset + off;
    if (ks === s.ks && s.ksWords !== undefined && (pAt & 3) === 0 && len >= 64) {
      // Four bytes at a time where both sides are 4-aligned (XOR is the same in any byte order),
      // through a view of the packet's memory kept while the same buffer comes back.
      let pw = this.#packetWords;
      if (pw === undefined || pw.buffer !== packet.buffer) {
        pw = this.#packetWords = new Int32Array(packet.buffer, 0, packet.buffer.byteLength >>> 2);
      }
      const kw = s.ksWords;
      const words = len >>> 2;
      for (let w = 0, p = pAt >>> 2, k = at >>> 2; w < words; w++) pw[p + w] ^= kw[k + w];
      i = words << 2;
    }
    for (; i < len; i++) packet[off + i] ^= ks[at + i];
  }

  /**
   * The keystream of `count` packets of `ssrc` from packet index `first` on, `blocks` blocks each,
   * in one AES call.
   */
  #keystream(ssrc: number, first: number, count: number, blocks: number): Uint8Array {
    const size = count * blocks * 16;
    if (counters.length < size) {
      counters = new Uint8Array(size);
      counterWords = new Int32Array(counters.buffer);
    }
    const c = counterWords;
    const k = this.#salt;
    // IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (index * 2^16); block j adds j in the low 16 bits.
    const w0 = word(k[0], k[1], k[2], k[3]);
    const w1 = word(
      k[4] ^ (ssrc >>> 24),
      k[5] ^ ((ssrc >>> 16) & 0xff),
      k[6] ^ ((ssrc >>> 8) & 0xff),
      k[7] ^ (ssrc & 0xff),
    );
    let o = 0;
    for (let n = 0; n < count; n++) {
      const index = first + n;
      const roc = Math.floor(index / 0x10000) >>> 0;
      const seq = index & 0xffff;
      const w2 = word(
        k[8] ^ (roc >>> 24),
        k[9] ^ ((roc >>> 16) & 0xff),
        k[10] ^ ((roc >>> 8) & 0xff),
        k[11] ^ (roc & 0xff),
      );
      const b12 = k[12] ^ (seq >>> 8), b13 = k[13] ^ (seq & 0xff);
      for (let j = 0; j < blocks; j++, o += 4) {
        c[o] = w0, c[o + 1] = w1, c[o + 2] = w2, c[o + 3] = word(b12, b13, j >>> 8, j & 0xff);
      }
    }
    const bytes = counters;
    return this.#aes.encryptBlocks(size === bytes.length ? bytes : bytes.subarray(0, size));
  }
}
