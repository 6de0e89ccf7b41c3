/**
 * go2rtc's `pkt_size` (config `rtsp.pkt_size`, or `?pkt_size=N` on a viewer's URL): the largest RTP
 * packet, header included, that the RTSP server sends. The bounds: below 100 bytes an H.264 FU-A
 * fragment carries almost no payload (12-byte RTP header + 2-byte FU header), and an interleaved
 * frame's length field is 16 bits (RFC 2326 section 10.12), so 65535 is the most TCP can carry.
 *
 * @module
 */

/** Smallest accepted `pkt_size`. */
export const MIN_PACKET_SIZE = 100;
/** Largest accepted `pkt_size` (the interleaved length field is 16 bits). */
export const MAX_PACKET_SIZE = 65535;

/** A `pkt_size` that is not a whole number of bytes in range. */
export class PacketSizeError extends RangeError {
  override name = "PacketSizeError";
  /** The value as given. */
  readonly value: string;
  /** Where it came from, e.g. `the URL's ?pkt_size=` or `rtsp.pkt_size`. */
  readonly where: string;

  constructor(value: string, where: string) {
    super(
      `${where} is "${value}": give a whole number of bytes from ${MIN_PACKET_SIZE} to ${MAX_PACKET_SIZE} ` +
        `(e.g. 1200), or leave it out to forward the source's own packets`,
    );
    this.value = value;
    this.where = where;
  }
}

/**
 * Checks a `pkt_size` value. `undefined`, `""` and `0` mean "not set" (forward the source's packets).
 *
 * @example
 * ```ts
 * parsePacketSize("1200", "?pkt_size="); // 1200
 * parsePacketSize(undefined, "rtsp.pkt_size"); // undefined
 * parsePacketSize("12", "?pkt_size="); // throws PacketSizeError
 * ```
 */
export function parsePacketSize(
  value: string | number | null | undefined,
  where: string,
): number | undefined {
  if (value === undefined || value === null || value === "" || value === 0 || value === "0") return undefined;
  const text = String(value).trim();
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < MIN_PACKET_SIZE || n > MAX_PACKET_SIZE) {
    throw new PacketSizeError(text, where);
  }
  return n;
}
