/**
 * H.265 RTP depacketizer (RFC 7798): RTP packets in, AVCC access units out.
 *
 * Payload structures (RFC 7798 4.4), told apart by the type in the 2-byte payload header:
 *
 * ```text
 * Single NAL unit (0-47)      AP (48, 4.4.2)                            FU (49, 4.4.3)
 * +-------------+-----        +-------------+-[DONL]-+------+-----+--   +-------------+---------+-[DONL]-+-----
 * | NAL header  | data        | PayloadHdr  |        | size | NAL | ..  | PayloadHdr  |S|E|Type |        | fragment
 * +-------------+-----        +-------------+--------+------+-----+--   +-------------+---------+--------+-----
 *    16 bits                     type 48      16 bits  16 bits             type 49      8 bits    16 bits
 * ```
 *
 * DONL/DOND fields are present only when sprop-max-don-diff > 0; they are skipped, and NAL units are
 * kept in transmission order (cameras do not interleave). PACI (50) is counted as an error.
 *
 * @module
 */
import { joinAvcc } from "../annexb/avcc.ts";
import { NalDepacketizer, type NalDepacketizerOptions } from "../annexb/nal_depacketizer.ts";
import { h265MaxDonDiff, type H265ParameterSets, h265ParameterSetsFromFmtp } from "./fmtp.ts";
import { H265NalType, isH265Irap } from "./nal.ts";

/**
 * Options of {@link H265Depacketizer}.
 *
 * @example
 * ```ts
 * const o: H265DepacketizerOptions = { fmtp: "sprop-vps=...;sprop-sps=...;sprop-pps=..." };
 * ```
 */
export interface H265DepacketizerOptions extends NalDepacketizerOptions {
  /** The SDP fmtp line: sprop-vps/sps/pps for keyframes that lack them, sprop-max-don-diff. */
  fmtp?: string;
  vps?: Uint8Array;
  sps?: Uint8Array;
  pps?: Uint8Array;
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  if (!a || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Turns H.265 RTP packets into frames: one `Frame` per access unit, AVCC data, `keyframe` when it
 * holds an IRAP picture (types 16..21), `packets` holding its RTP packets.
 *
 * An IRAP access unit without VPS, SPS or PPS in-band gets the last known ones (from the stream,
 * else from the fmtp) put in front, so every keyframe can start a decoder (go2rtc issue #2202).
 * Counters as on the H.264 depacketizer: `errors`, `lostFragments`, `droppedFrames`.
 *
 * @example
 * ```ts
 * const depay = new H265Depacketizer({ fmtp: codec.fmtp });
 * const frame = depay.push(parseRtp(bytes));
 * if (frame) receiver.push(frame);
 * ```
 */
export class H265Depacketizer extends NalDepacketizer {
  readonly #donl: boolean;
  #sets: H265ParameterSets;
  #prefix: Uint8Array | undefined;
  /** Bits 1, 2, 4: VPS, SPS, PPS seen in the access unit in progress. */
  #have = 0;
  #nals = 0;

  constructor(options: H265DepacketizerOptions = {}) {
    super(options);
    let sets: H265ParameterSets = {};
    try {
      sets = h265ParameterSetsFromFmtp(options.fmtp);
    } catch {
      this.errors++; // only costs the injection; the stream may carry them in-band
    }
    this.#sets = { vps: options.vps ?? sets.vps, sps: options.sps ?? sets.sps, pps: options.pps ?? sets.pps };
    this.#donl = h265MaxDonDiff(options.fmtp) > 0;
  }

  /** The last VPS, SPS and PPS seen (in-band or from the options). */
  get parameterSets(): Readonly<H265ParameterSets> {
    return this.#sets;
  }

  protected depacketize(payload: Uint8Array): void {
    if (payload.length < 2) return this.malformed(false); // EOS/EOB are header-only NAL units
    const type = (payload[0] >> 1) & 0x3f;
    if (type < H265NalType.AP) {
      if (!this.#donl) return this.addNal(payload);
      // The DONL sits between the NAL unit header and its payload data.
      if (payload.length < 5) return this.malformed(false);
      this.beginFragment(payload[0], payload[1], 2);
      this.appendFragment(payload.subarray(4));
      this.endFragment();
    } else if (type === H265NalType.AP) {
      this.#ap(payload);
    } else if (type === H265NalType.FU) {
      this.#fu(payload);
    } else {
      this.malformed(false); // PACI and unspecified types
    }
  }

  /** AP: [DONL] size NAL, then [DOND] size NAL...; validated whole before use. */
  #ap(payload: Uint8Array): void {
    let p = 2;
    let count = 0;
    while (p < payload.length) {
      if (this.#donl) p += count === 0 ? 2 : 1;
      if (p + 2 > payload.length) return this.malformed(false);
      const size = (payload[p] << 8) | payload[p + 1];
      if (size < 2 || p + 2 + size > payload.length) return this.malformed(false);
      p += 2 + size;
      count++;
    }
    if (count === 0) return this.malformed(false);
    p = 2;
    for (let i = 0; i < count; i++) {
      if (this.#donl) p += i === 0 ? 2 : 1;
      const size = (payload[p] << 8) | payload[p + 1];
      this.addNal(payload.subarray(p + 2, p + 2 + size));
      p += 2 + size;
    }
  }

  /** FU: the NAL header is the payload header with the type from the FU header. */
  #fu(payload: Uint8Array): void {
    if (payload.length < 4) return this.malformed(false);
    const fu = payload[2];
    const start = (fu & 0x80) !== 0;
    const end = (fu & 0x40) !== 0;
    let data = 3;
    if (start) {
      if (this.#donl) data += 2;
      if (payload.length <= data) return this.malformed(false);
      this.beginFragment((payload[0] & 0x81) | ((fu & 0x3f) << 1), payload[1], 2);
    } else if (!this.fragmentOpen) {
      return this.malformed(true);
    }
    this.appendFragment(payload.subarray(data));
    if (end) this.endFragment();
  }

  protected classify(nal: Uint8Array, end: number): void {
    const type = (nal[0] >> 1) & 0x3f;
    if (isH265Irap(type)) {
      this.keyframe = true;
    } else if (type >= H265NalType.VPS && type <= H265NalType.PPS) {
      const key = type === H265NalType.VPS ? "vps" : type === H265NalType.SPS ? "sps" : "pps";
      this.#have |= 1 << (type - H265NalType.VPS);
      if (!sameBytes(this.#sets[key], nal)) {
        this.#sets = { ...this.#sets, [key]: nal.slice() };
        this.#prefix = undefined;
      }
    } else if (type === H265NalType.AUD && this.#nals === 0) {
      this.insertAt = end;
    }
    this.#nals++;
  }

  protected prefix(): Uint8Array | undefined {
    if (this.#have === 7) return undefined;
    const { vps, sps, pps } = this.#sets;
    if (!vps || !sps || !pps) return undefined;
    this.#prefix ??= joinAvcc([vps, sps, pps]);
    return this.#prefix;
  }

  protected override resetAccessUnit(): void {
    super.resetAccessUnit();
    this.#have = 0;
    this.#nals = 0;
  }
}
