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
  constructor(options: H264DepacketizerOptions = {}) {
    super(options);
    let sets: { sps?: Uint8Array; pps?: Uint8Array } = {};
    try {
      sets = h264ParameterSetsFromFmtp(options.fmtp);
    } catch {
      // A bad sprop-parameter-sets only costs the injection; the stream may carry them in-band.
      this.errors++;
    }
    this.initParameterSets([options.sps ?? sets.sps, options.pps ?? sets.pps]);
  }

  /** The last SPS seen (in-band or from the options), without start code. */
  get sps(): Uint8Array | undefined {
    return this.parameterSet(0);
  }

  /** The last PPS seen (in-band or from the options), without start code. */
  get pps(): Uint8Array | undefined {
    return this.parameterSet(1);
  }

  protected depacketize(payload: Uint8Array): void {
    const type = payload[0] & 0x1f;
    if (type >= 1 && type <= 23) {
      this.addNal(payload);
    } else if (type === H264NalType.STAP_A) {
      this.addAggregated(payload, 1, 1, false); // STAP-A
    } else if (type === H264NalType.FU_A) {
      this.#fuA(payload);
    } else {
      this.malformed(false); // 0, 30, 31 reserved; STAP-B, MTAP16/24, FU-B need interleaved mode
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
      this.rememberParameterSet(0, nal);
    } else if (type === H264NalType.PPS) {
      this.rememberParameterSet(1, nal);
    } else if (type === H264NalType.AUD) {
      this.accessUnitDelimiter(end);
    }
  }
}
