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

  constructor(options: H265DepacketizerOptions = {}) {
    super(options);
    let sets: H265ParameterSets = {};
    try {
      sets = h265ParameterSetsFromFmtp(options.fmtp);
    } catch {
      this.errors++; // only costs the injection; the stream may carry them in-band
    }
    // Slots 0, 1, 2: VPS, SPS, PPS (NAL unit types 32, 33, 34).
    this.initParameterSets([options.vps ?? sets.vps, options.sps ?? sets.sps, options.pps ?? sets.pps]);
    this.#donl = h265MaxDonDiff(options.fmtp) > 0;
  }

  /** The last VPS, SPS and PPS seen (in-band or from the options). */
  get parameterSets(): Readonly<H265ParameterSets> {
    return { vps: this.parameterSet(0), sps: this.parameterSet(1), pps: this.parameterSet(2) };
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
      this.addAggregated(payload, 2, 2, this.#donl); // AP
    } else if (type === H265NalType.FU) {
      this.#fu(payload);
    } else {
      this.malformed(false); // PACI and unspecified types
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
      this.rememberParameterSet(type - H265NalType.VPS, nal);
    } else if (type === H265NalType.AUD) {
      this.accessUnitDelimiter(end);
    }
  }
}
