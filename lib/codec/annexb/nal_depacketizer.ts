/**
 * The codec-neutral half of H.264 (RFC 6184) and H.265 (RFC 7798) RTP depacketizing: collecting NAL
 * units into one AVCC access unit, finding access unit boundaries, and dropping damaged ones.
 *
 * Boundaries: the marker bit ends an access unit (RFC 6184 5.1, RFC 7798 4.1). Some cameras never set
 * it or lose it, so a change of RTP timestamp also ends the access unit in progress.
 *
 * Losses: a missing sequence number while an access unit is in progress, or a fragment that arrives
 * without its start, means that access unit lacks data; it is dropped whole at its end (a decoder
 * given half a slice shows garbage until the next keyframe anyway). Malformed payloads are counted in
 * `errors` and skipped; nothing here throws on input bytes.
 *
 * Trailing zero bytes of NAL units are dropped: a NAL unit never ends in 0x00 (H.264 7.4.1, H.265
 * 7.4.2), yet ffmpeg's RTP muxer sends the first zero of the next 4-byte start code along with each
 * NAL unit it cuts from an Annex-B stream.
 *
 * Parameter sets: an access unit holding a keyframe but not all of the codec's parameter sets (SPS and
 * PPS; VPS, SPS and PPS) gets the last known ones (from the stream, else from the fmtp) put in front,
 * after a leading access unit delimiter, so every keyframe can start a decoder on its own: cameras
 * that send them only in the SDP otherwise break restreaming (go2rtc issue #2202).
 *
 * Memory: one reusable buffer per depacketizer, grown up to `maxFrameSize` (5 MB by default, as
 * go2rtc after issue #675); an access unit larger than that is dropped instead of growing further.
 *
 * @module
 */
import type { Frame } from "../../core/frame.ts";
import type { RtpPacket } from "../../rtp/packet.ts";
import { joinAvcc, writeAvccLength } from "./avcc.ts";

/**
 * Options shared by the H.264 and H.265 depacketizers.
 *
 * @example
 * ```ts
 * const o: NalDepacketizerOptions = { maxFrameSize: 2_000_000, keepPackets: false };
 * ```
 */
export interface NalDepacketizerOptions {
  /** Largest access unit in bytes; larger ones are dropped. Default 5 MB. */
  maxFrameSize?: number;
  /** Put the RTP packets of each access unit on `Frame.packets` (default true). */
  keepPackets?: boolean;
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  if (!a || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const DEFAULT_MAX_FRAME_SIZE = 5 * 1024 * 1024;
const INITIAL_BUFFER = 64 * 1024;

/**
 * Base class of `H264Depacketizer` and `H265Depacketizer`: a pure processor, `push(packet)` returns a
 * frame when one completes. Subclasses parse the payload formats and classify NAL units.
 *
 * @example
 * ```ts
 * const frame = depacketizer.push(pkt); // Frame | undefined
 * ```
 */
export abstract class NalDepacketizer {
  /** Payloads that could not be parsed (truncated aggregation packets, unknown types, fragments without start...). */
  errors = 0;
  /** Partly received NAL units dropped because a fragment was lost. */
  lostFragments = 0;
  /** Access units dropped: damaged by loss, or larger than `maxFrameSize`. */
  droppedFrames = 0;

  readonly #maxFrameSize: number;
  readonly #keepPackets: boolean;
  #buf: Uint8Array;
  #len = 0;
  /** Offset of the length prefix of the fragmented NAL unit being assembled, or -1. */
  #fragmentAt = -1;
  #overflow = false;
  #broken = false;
  #started = false;
  #timestamp = 0;
  #lastSeq = -1;
  #packets: RtpPacket[] = [];
  #pending: Frame | undefined;
  /** Last known parameter sets by slot (H.264: SPS, PPS; H.265: VPS, SPS, PPS), without start codes. */
  #sets: (Uint8Array | undefined)[] = [];
  /** One bit per slot: parameter sets seen in the access unit in progress. */
  #setsSeen = 0;
  /** `joinAvcc` of `#sets`, built once and dropped when one changes. */
  #setsAvcc: Uint8Array | undefined;
  /** NAL units classified in the access unit in progress. */
  #nals = 0;

  /** Set by subclasses while classifying NAL units of the access unit in progress. */
  protected keyframe = false;
  /** Where parameter sets would be inserted: 0, or just after a leading access unit delimiter. */
  #insertAt = 0;

  constructor(options: NalDepacketizerOptions = {}) {
    this.#maxFrameSize = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
    this.#keepPackets = options.keepPackets ?? true;
    this.#buf = new Uint8Array(Math.min(INITIAL_BUFFER, this.#maxFrameSize + 8));
  }

  /**
   * Takes one RTP packet (in sequence order) and returns the access unit it completes, if any.
   * Never throws on bad payloads: they are counted in `errors`.
   */
  push(pkt: RtpPacket): Frame | undefined {
    let out = this.#pending;
    this.#pending = undefined;

    const seq = pkt.sequenceNumber;
    if (this.#lastSeq >= 0) {
      if (seq === this.#lastSeq) return out; // duplicate
      if (seq !== ((this.#lastSeq + 1) & 0xffff)) this.#lost();
    }
    this.#lastSeq = seq;

    if (this.#started && pkt.timestamp !== this.#timestamp) {
      // Buggy cameras omit the marker bit: a new timestamp ends the previous access unit.
      const done = this.#finish();
      if (done) {
        if (out) this.#pending = done;
        else out = done;
      }
    }
    if (!this.#started) {
      this.#started = true;
      this.#timestamp = pkt.timestamp;
    }
    if (this.#keepPackets && !this.#broken && !this.#overflow) this.#packets.push(pkt);

    if (pkt.payload.length === 0) this.errors++;
    else this.depacketize(pkt.payload);

    if (pkt.marker) {
      const done = this.#finish();
      if (done) {
        if (out) this.#pending = done;
        else out = done;
      }
    }
    return out;
  }

  /**
   * Returns the access unit in progress (or one held back), for the end of a stream. A partly
   * received NAL unit in it is dropped.
   */
  flush(): Frame | undefined {
    const out = this.#pending;
    this.#pending = undefined;
    const done = this.#started ? this.#finish() : undefined;
    if (out) {
      this.#pending = done;
      return out;
    }
    return done;
  }

  /** Forgets the access unit in progress and the sequence state (after a reconnect or seek). */
  reset(): void {
    this.#clear();
    this.#pending = undefined;
    this.#lastSeq = -1;
  }

  /** Parses one non-empty RTP payload, calling `addNal` / `beginFragment` / `appendFragment` / `endFragment`. */
  protected abstract depacketize(payload: Uint8Array): void;

  /**
   * Called once per complete NAL unit of the access unit; `end` is the write position after it.
   * Sets `keyframe`, and calls {@link rememberParameterSet} / {@link accessUnitDelimiter}.
   */
  protected abstract classify(nal: Uint8Array, end: number): void;

  /**
   * Sets the parameter sets known before the stream (from the fmtp or the options), one slot per
   * kind in decoding order; `undefined` for an unknown one. Their count fixes the number of slots.
   */
  protected initParameterSets(sets: (Uint8Array | undefined)[]): void {
    this.#sets = sets;
    this.#setsAvcc = undefined;
  }

  /** The last known parameter set of a slot (in-band or from the options). */
  protected parameterSet(slot: number): Uint8Array | undefined {
    return this.#sets[slot];
  }

  /** Notes an in-band parameter set: seen in this access unit, and the latest one of its slot. */
  protected rememberParameterSet(slot: number, nal: Uint8Array): void {
    this.#setsSeen |= 1 << slot;
    if (!sameBytes(this.#sets[slot], nal)) {
      this.#sets[slot] = nal.slice();
      this.#setsAvcc = undefined;
    }
  }

  /**
   * Notes an access unit delimiter ending at `end`: when it is the first NAL unit, parameter sets go
   * after it, since the delimiter must come first (H.264 7.4.1.2.3, H.265 7.4.2.4.4).
   */
  protected accessUnitDelimiter(end: number): void {
    if (this.#nals === 0) this.#insertAt = end;
  }

  /** Forgets per-access-unit classification. */
  protected resetAccessUnit(): void {
    this.keyframe = false;
    this.#insertAt = 0;
    this.#setsSeen = 0;
    this.#nals = 0;
  }

  /**
   * AVCC parameter sets to put in front of a keyframe that lacks some in-band, or undefined. All go in
   * front even when some are in-band: a PPS must follow the SPS it refers to, and a repeat is harmless.
   */
  #prefix(): Uint8Array | undefined {
    const n = this.#sets.length;
    if (this.#setsSeen === (1 << n) - 1) return undefined;
    for (let i = 0; i < n; i++) if (!this.#sets[i]) return undefined;
    this.#setsAvcc ??= joinAvcc(this.#sets as Uint8Array[]);
    return this.#setsAvcc;
  }

  /** Whether a fragmented NAL unit is being assembled. */
  protected get fragmentOpen(): boolean {
    return this.#fragmentAt >= 0;
  }

  /** Marks the access unit in progress as damaged and counts a malformed payload. */
  protected malformed(damaged: boolean): void {
    this.errors++;
    if (damaged) this.#broken = true;
  }

  /** Appends one complete NAL unit. */
  protected addNal(nal: Uint8Array): void {
    if (this.#fragmentAt >= 0) this.#dropFragment();
    let n = nal.length;
    while (n > 0 && nal[n - 1] === 0) n--;
    if (n === 0) {
      this.errors++;
      return;
    }
    if (!this.#reserve(4 + n)) return;
    const at = this.#len;
    writeAvccLength(this.#buf, at, n);
    this.#buf.set(n === nal.length ? nal : nal.subarray(0, n), at + 4);
    this.#len = at + 4 + n;
    this.classify(this.#buf.subarray(at + 4, this.#len), this.#len);
    this.#nals++;
  }

  /**
   * An aggregation packet (H.264 STAP-A, RFC 6184 5.7.1; H.265 AP, RFC 7798 4.4.2): after the
   * `headerSize`-byte payload header, 16-bit sizes each followed by a NAL unit, with a 16-bit DONL
   * before the first size and an 8-bit DOND before each further one when `don` is set. Validated
   * whole before use, so a bad one adds nothing.
   */
  protected addAggregated(payload: Uint8Array, headerSize: number, minNalSize: number, don: boolean): void {
    let p = headerSize;
    let count = 0;
    while (p < payload.length) {
      if (don) p += count === 0 ? 2 : 1;
      if (p + 2 > payload.length) return this.malformed(false);
      const size = (payload[p] << 8) | payload[p + 1];
      if (size < minNalSize || p + 2 + size > payload.length) return this.malformed(false);
      p += 2 + size;
      count++;
    }
    if (count === 0) return this.malformed(false);
    p = headerSize;
    for (let i = 0; i < count; i++) {
      if (don) p += i === 0 ? 2 : 1;
      const size = (payload[p] << 8) | payload[p + 1];
      this.addNal(payload.subarray(p + 2, p + 2 + size));
      p += 2 + size;
    }
  }

  /** Starts a fragmented NAL unit with its reconstructed header bytes. */
  protected beginFragment(header0: number, header1: number, headerSize: 1 | 2): void {
    if (this.#fragmentAt >= 0) this.#dropFragment();
    if (!this.#reserve(4 + headerSize)) return;
    this.#fragmentAt = this.#len;
    this.#buf[this.#len + 4] = header0;
    if (headerSize === 2) this.#buf[this.#len + 5] = header1;
    this.#len += 4 + headerSize;
  }

  /** Appends fragment bytes to the open NAL unit. */
  protected appendFragment(data: Uint8Array): void {
    if (this.#fragmentAt < 0) return;
    if (!this.#reserve(data.length)) return;
    this.#buf.set(data, this.#len);
    this.#len += data.length;
  }

  /** Closes the open NAL unit. */
  protected endFragment(): void {
    const at = this.#fragmentAt;
    if (at < 0) return;
    this.#fragmentAt = -1;
    while (this.#len > at + 5 && this.#buf[this.#len - 1] === 0) this.#len--;
    writeAvccLength(this.#buf, at, this.#len - at - 4);
    this.classify(this.#buf.subarray(at + 4, this.#len), this.#len);
    this.#nals++;
  }

  /** A sequence gap: whatever is in progress misses data. */
  #lost(): void {
    if (this.#fragmentAt >= 0) this.#dropFragment();
    if (this.#len > 0 || this.#packets.length > 0) this.#broken = true;
  }

  #dropFragment(): void {
    this.#len = this.#fragmentAt;
    this.#fragmentAt = -1;
    this.lostFragments++;
    this.#broken = true;
  }

  /** Makes room for `n` more bytes; false (and the access unit marked oversized) past the cap. */
  #reserve(n: number): boolean {
    if (this.#overflow) return false;
    const need = this.#len + n;
    if (need <= this.#buf.length) return true;
    if (need > this.#maxFrameSize) {
      this.#overflow = true;
      this.#fragmentAt = -1;
      this.#len = 0;
      this.#packets = [];
      return false;
    }
    let size = this.#buf.length * 2;
    while (size < need) size *= 2;
    const bigger = new Uint8Array(Math.min(size, this.#maxFrameSize));
    bigger.set(this.#buf.subarray(0, this.#len));
    this.#buf = bigger;
    return true;
  }

  /** Ends the access unit in progress: returns it as a frame, or drops it when damaged or empty. */
  #finish(): Frame | undefined {
    if (this.#fragmentAt >= 0) this.#dropFragment(); // marker or new timestamp before the FU end
    let frame: Frame | undefined;
    if (this.#broken || this.#overflow) {
      this.droppedFrames++;
    } else if (this.#len > 0) {
      const extra = this.keyframe ? this.#prefix() : undefined;
      let data: Uint8Array;
      if (extra && extra.length) {
        data = new Uint8Array(this.#len + extra.length);
        data.set(this.#buf.subarray(0, this.#insertAt));
        data.set(extra, this.#insertAt);
        data.set(this.#buf.subarray(this.#insertAt, this.#len), this.#insertAt + extra.length);
      } else {
        data = this.#buf.slice(0, this.#len);
      }
      frame = { timestamp: this.#timestamp, keyframe: this.keyframe, data };
      if (this.#keepPackets) frame.packets = this.#packets;
    }
    this.#clear();
    return frame;
  }

  #clear(): void {
    this.#len = 0;
    this.#fragmentAt = -1;
    this.#overflow = false;
    this.#broken = false;
    this.#started = false;
    if (this.#packets.length) this.#packets = [];
    this.resetAccessUnit();
  }
}
