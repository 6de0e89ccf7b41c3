/**
 * strom's SRTP sender for AES_CM_128_HMAC_SHA1_80 (RFC 3711): key derivation and packet protection
 * with reused cipher state.
 *
 * @module
 */
export {
  SRTP_AUTH_TAG_LENGTH,
  SRTP_HMAC_HEADROOM,
  SRTP_KEYSTREAM_BATCH,
  SrtpProtector,
  type SrtpProtectorOptions,
} from "./protector.ts";
export { deriveSrtpKeys, SrtpLabel, srtpPrf, type SrtpSessionKeys } from "./kdf.ts";
export { HmacSha1 } from "./sha1.ts";
export { SrtpKeyError } from "./errors.ts";
