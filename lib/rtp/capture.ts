/**
 * A minimal container for captured RTP/RTCP packets, used by test fixtures and debugging dumps.
 *
 * ```text
 * repeat {
 *   u16 big-endian length N
 *   N bytes: one UDP datagram (an RTP or RTCP packet)
 * }
 * ```
 *
 * No file header and no timestamps: the packets and their arrival order are what matter.
 * `scripts/fixtures/capture_rtp.mjs` writes such files from ffmpeg's `-f rtp` output.
 *
 * @module
 */

/** A capture file that ends inside a record. */
export class RtpCaptureError extends RangeError {
  override name = "RtpCaptureError";
  /** Byte offset of the record that runs past the end. */
  readonly offset: number;
  constructor(offset: number, need: number, have: number) {
    super(
      `Cannot read RTP capture at byte ${offset}: record needs ${need} bytes but only ${have} remain; ` +
        `the file is truncated (re-run scripts/fixtures/capture_rtp.mjs)`,
    );
    this.offset = offset;
  }
}

/**
 * Splits a capture into its datagrams (views into `bytes`, no copy).
 *
 * @example
 * ```ts
 * const packets = readRtpCapture(await readFile("testdata/ffmpeg_pcma.rtp")).map(parseRtp);
 * ```
 */
export function readRtpCapture(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let p = 0;
  while (p < bytes.length) {
    if (p + 2 > bytes.length) throw new RtpCaptureError(p, 2, bytes.length - p);
    const n = (bytes[p] << 8) | bytes[p + 1];
    if (p + 2 + n > bytes.length) throw new RtpCaptureError(p, 2 + n, bytes.length - p);
    out.push(bytes.subarray(p + 2, p + 2 + n));
    p += 2 + n;
  }
  return out;
}

/**
 * Joins datagrams into a capture.
 *
 * @example
 * ```ts
 * await writeFile("dump.rtp", writeRtpCapture(packets.map(serializeRtp)));
 * ```
 */
export function writeRtpCapture(datagrams: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const d of datagrams) {
    if (d.length > 0xffff) {
      throw new RangeError(`Cannot write RTP capture: datagram of ${d.length} bytes exceeds 65535`);
    }
    total += 2 + d.length;
  }
  const out = new Uint8Array(total);
  let p = 0;
  for (const d of datagrams) {
    out[p] = d.length >> 8;
    out[p + 1] = d.length & 0xff;
    out.set(d, p + 2);
    p += 2 + d.length;
  }
  return out;
}
