/**
 * Errors of strom's SRTP sender.
 *
 * @module
 */

/** A master key or salt of the wrong length was handed to the SRTP sender. */
export class SrtpKeyError extends Error {
  override name = "SrtpKeyError";
  constructor(
    /** Which input: "master key" or "master salt". */
    readonly what: string,
    /** The length AES_CM_128_HMAC_SHA1_80 needs. */
    readonly expected: number,
    /** The length given. */
    readonly actual: number,
  ) {
    super(
      `SRTP AES_CM_128_HMAC_SHA1_80 needs a ${expected}-byte ${what}, got ${actual} bytes: ` +
        `take it from the DTLS-SRTP key export for this profile`,
    );
  }
}
