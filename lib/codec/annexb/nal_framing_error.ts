/**
 * The error raised when length-prefixed (AVCC) NAL unit data does not add up.
 *
 * @module
 */

/**
 * AVCC data whose length prefixes do not match its size: usually Annex-B data handed in where AVCC
 * was expected, or a truncated frame.
 *
 * @example
 * ```ts
 * try { [...splitAvcc(bytes)]; } catch (e) { if (e instanceof NalFramingError) console.log(e.offset); }
 * ```
 */
export class NalFramingError extends SyntaxError {
  override name = "NalFramingError";
  /** Byte offset of the bad length prefix. */
  readonly offset: number;
  /** Size of the whole buffer. */
  readonly size: number;
  constructor(offset: number, size: number, reason: string) {
    super(
      `Cannot read AVCC NAL unit at byte ${offset} of ${size}: ${reason}; ` +
        "the data is truncated or not length-prefixed (Annex-B start codes?)",
    );
    this.offset = offset;
    this.size = size;
  }
}
