/**
 * SRTP key derivation (RFC 3711 section 4.3) for the AES-CM pseudo-random function with a key
 * derivation rate of 0, as DTLS-SRTP uses: the session encryption key, salt and authentication key
 * of one direction from its master key and master salt.
 *
 * @module
 */
import { aes128EcbEncryptor, type AesEcbEncryptor } from "../../runtime/crypto.ts";
import { SrtpKeyError } from "./errors.ts";

/** RFC 3711 section 4.3.2 labels. */
export const SrtpLabel = {
  rtpEncryption: 0,
  rtpAuthentication: 1,
  rtpSalt: 2,
  rtcpEncryption: 3,
  rtcpAuthentication: 4,
  rtcpSalt: 5,
} as const;

/** The SRTP session keys of one direction. */
export interface SrtpSessionKeys {
  /** k_e: 16 bytes. */
  encryptionKey: Uint8Array;
  /** k_s: 14 bytes. */
  salt: Uint8Array;
  /** k_a: 20 bytes (HMAC-SHA1). */
  authKey: Uint8Array;
}

/**
 * `length` bytes of the AES-CM PRF for `label` (RFC 3711 4.3.1 and 4.3.3, key derivation rate 0):
 * AES-CM under the master key with IV = (label << 48 XOR master salt) * 2^16.
 */
export function srtpPrf(
  aes: AesEcbEncryptor,
  masterSalt: Uint8Array,
  label: number,
  length: number,
): Uint8Array {
  const blocks = Math.ceil(length / 16);
  const input = new Uint8Array(blocks * 16);
  for (let j = 0; j < blocks; j++) {
    const o = j * 16;
    input.set(masterSalt, o);
    input[o + 7] ^= label; // key_id = label || 48-bit zero index, right-aligned in the 112-bit salt
    input[o + 14] = j >>> 8;
    input[o + 15] = j & 0xff;
  }
  return aes.encryptBlocks(input).subarray(0, length);
}

/**
 * Derives the SRTP (not SRTCP) session keys for AES_CM_128_HMAC_SHA1_80 from a 16-byte master key
 * and 14-byte master salt.
 *
 * @throws {SrtpKeyError} when the master key or salt has the wrong length.
 * @example
 * ```ts
 * const { encryptionKey, salt, authKey } = deriveSrtpKeys(masterKey, masterSalt);
 * ```
 */
export function deriveSrtpKeys(masterKey: Uint8Array, masterSalt: Uint8Array): SrtpSessionKeys {
  if (masterKey.length !== 16) throw new SrtpKeyError("master key", 16, masterKey.length);
  if (masterSalt.length !== 14) throw new SrtpKeyError("master salt", 14, masterSalt.length);
  const aes = aes128EcbEncryptor(masterKey);
  return {
    encryptionKey: srtpPrf(aes, masterSalt, SrtpLabel.rtpEncryption, 16),
    salt: srtpPrf(aes, masterSalt, SrtpLabel.rtpSalt, 14),
    authKey: srtpPrf(aes, masterSalt, SrtpLabel.rtpAuthentication, 20),
  };
}
