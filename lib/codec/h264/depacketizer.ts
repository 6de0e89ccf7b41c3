/**
 * H.264 RTP depacketizer (RFC 6184, non-interleaved mode): RTP packets in, AVCC access units out.
 *
 * Payload structures (RFC 6184 5.2), told apart by the type in the first byte:
 *
 * ```text
 * Single NAL unit (1-23)   STAP-A (24, 5.7.1)                     FU-A (28, 5.8)
 * +---------------+        +---------------+-------+-----+---     +---------------+---------------+----
 * |F|NRI| Type    | ...    |F|NRI|  24     | size  | NAL | ...    |F|NRI|  28     |S|E|R| Type    | fragment
 * +---------------+        +---------------+-------+-----+---     +---------------+---------------+----
 *                                           16 bits                 FU indicator    FU header
 * ```
 *
 * The header of a fragmented NAL unit is rebuilt from the FU indicator (F, NRI) and FU header (type).
 * STAP-B, MTAP and FU-B belong to interleaved mode (packetization-mode=2), which cameras do not use;
 * they are counted as errors and skipped.
 *
 * @module
 */
import { joinAvcc } from "../annexb/avcc.ts";
import { NalDepacketizer, type NalDepacketizerOptions } from "../annexb/nal_depacketizer.ts";
import { h264ParameterSetsFromFmtp } from "./fmtp.ts";
import { H264NalType } from "./nal.ts";

/**
 * Options of {@link H264Depacketizer}.
 *
 * @example
 * ```ts
 * const o: H264DepacketizerOptions = { fmtp: "packetization-mode=1;sprop-parameter-sets=Z0IAH...,aM4..." };
 * ```
 */
export interface H264DepacketizerOptions extends NalDepacketizerOptions {
  /** The SDP fmtp line; its sprop-parameter-sets are put before keyframes that lack them in-band. */
  fmtp?: string;
  /** SPS to use when the stream has none in-band (overrides the fmtp one). */
  sps?: Uint8Array;
  /** PPS to use when the stream has none in-band (overrides the fmtp one). */
  pps?: Uint8Array;
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  if (!a || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Turns H.264 RTP packets into frames: one `Frame` per access unit, AVCC data, `keyframe` when it
 * holds an IDR slice, `packets` holding its RTP packets.
 *
 * An IDR access unit that comes without SPS or PPS in-band gets the last known ones (from the stream,
 * else from the fmtp) put in front, so every keyframe can start a decoder on its own: cameras that
 * send parameter sets only in the SDP otherwise break restreaming (go2rtc issue #2202).
 *
 * Counters: `errors` (malformed payloads), `lostFragments` (partial NAL units dropped),
 * `droppedFrames` (access units dropped because of loss or size).
 *
 * @example
 * ```ts
 * const depay = new H264Depacketizer({ fmtp: codec.fmtp });
 * socket.onMessage = (bytes) => {
 *   const frame = depay.push(parseRtp(bytes));
 *   if (frame) receiver.push(frame);
 * };
 * ```
 */
export class H264Depacketizer extends NalDepacketizer {
  #sps: Uint8Array | undefined;
  #pps: Uint8Array | undefined;
  #prefix: Uint8Array | undefined;
  #hasSps = false;
  #hasPps = false;
  #nals = 0;

  constructor(options: H264DepacketizerOptions = {}) {
    super(options);
    let sets: { sps?: Uint8Array; pps?: Uint8Array } = {};
    try {
      sets = h264ParameterSetsFromFmtp(options.fmtp);
    } catch {
      // A bad sprop-parameter-sets only costs the injection; the stream may carry them in-band.
      this.errors++;
    }
    this.#sps = options.sps ?? sets.sps;
    this.#pps = options.pps ?? sets.pps;
  }

  /** The last SPS seen (in-band or from the options), without start code. */
  get sps(): Uint8Array | undefined {
    return this.#sps;
  }

  /** The last PPS seen (in-band or from the options), without start code. */
  get pps(): Uint8Array | undefined {
    return this.#pps;
  }

  protected depacketize(payload: Uint8Array): void {
    const type = payload[0] & 0x1f;
    if (type >= 1 && type <= 23) {
      this.addNal(payload);
    } else if (type === H264NalType.STAP_A) {
      this.#stapA(payload);
    } else if (type === H264NalType.FU_A) {
      this.#fuA(payload);
    } else {
      this.malformed(false); // 0, 30, 31 reserved; STAP-B, MTAP16/24, FU-B need interleaved mode
    }
  }

  /** STAP-A: 16-bit sizes before each NAL unit. Validated whole before use, so a bad one adds nothing. */
  #stapA(payload: Uint8Array): void {
    let p = 1;
    let count = 0;
    while (p < payload.length) {
      if (p + 2 > payload.length) return this.malformed(false);
      const size = (payload[p] << 8) | payload[p + 1];
      if (size === 0 || p + 2 + size > payload.length) return this.malformed(false);
      p += 2 + size;
      count++;
    }
    if (count === 0) return this.malformed(false);
    p = 1;
    while (p < payload.length) {
      const size = (payload[p] << 8) | payload[p + 1];
      this.addNal(payload.subarray(p + 2, p + 2 + size));
      p += 2 + size;
    }
  }

  /** FU-A: S starts a NAL unit, E ends it; a fragment without its start damages the access unit. */
  #fuA(payload: Uint8Array): void {
    if (payload.length < 3) return this.malformed(false);
    const fu = payload[1];
    const start = (fu & 0x80) !== 0;
    const end = (fu & 0x40) !== 0;
    if (start) {
      this.beginFragment((payload[0] & 0xe0) | (fu & 0x1f), 0, 1);
    } else if (!this.fragmentOpen) {
      return this.malformed(true);
    }
    this.appendFragment(payload.subarray(2));
    if (end) this.endFragment();
  }

  protected classify(nal: Uint8Array, end: number): void {
    const type = nal[0] & 0x1f;
    if (type === H264NalType.IDR) {
      this.keyframe = true;
    } else if (type === H264NalType.SPS) {
      this.#hasSps = true;
      if (!sameBytes(this.#sps, nal)) {
        this.#sps = nal.slice();
        this.#prefix = undefined;
      }
    } else if (type === H264NalType.PPS) {
      this.#hasPps = true;
      if (!sameBytes(this.#pps, nal)) {
        this.#pps = nal.slice();
        this.#prefix = undefined;
      }
    } else if (type === H264NalType.AUD && this.#nals === 0) {
      this.insertAt = end; // parameter sets go after the delimiter, which must come first (7.4.1.2.3)
    }
    this.#nals++;
  }

  protected prefix(): Uint8Array | undefined {
    if (this.#hasSps && this.#hasPps) return undefined;
    // Both go in front even when one of them is in-band: a PPS must follow the SPS it refers to, and
    // a repeated SPS is harmless.
    if (!this.#sps || !this.#pps) return undefined;
    this.#prefix ??= joinAvcc([this.#sps, this.#pps]);
    return this.#prefix;
  }

  protected override resetAccessUnit(): void {
    super.resetAccessUnit();
    this.#hasSps = false;
    this.#hasPps = false;
    this.#nals = 0;
  }
}
