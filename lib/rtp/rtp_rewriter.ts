/**
 * Sequence number, timestamp and SSRC rewriting, so the RTP stream a viewer receives stays continuous
 * when the source behind it changes: a camera reconnects (new SSRC, random sequence and timestamp
 * bases, RFC 3550 section 5.1) or the stream switches to another source. Without this a player sees a
 * jump of thousands of sequence numbers or seconds of timestamp and stalls, drops, or resyncs.
 *
 * Each rewriter keeps a constant offset between input and output while one input lasts, so gaps and
 * reordering in the input stay visible in the output (loss detection and jitter buffers downstream
 * still work). After `reset()` the next input packet is mapped to just after the last output.
 *
 * @module
 */
import type { RtpPacket } from "./packet.ts";

/** Signed distance a - b between two 16-bit sequence numbers, in -32768..32767. */
function seqDiff(a: number, b: number): number {
  return (((a - b) & 0xffff) << 16) >> 16;
}

/** Signed distance a - b between two 32-bit timestamps. */
function tsDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/**
 * Maps input sequence numbers onto one continuous output sequence.
 *
 * @example
 * ```ts
 * const seq = new SequenceRewriter(1000);
 * seq.rewrite(52000); // 1000
 * seq.rewrite(52001); // 1001
 * seq.reset();        // the source reconnected
 * seq.rewrite(7);     // 1002
 * ```
 */
export class SequenceRewriter {
  #offset = 0;
  #highest = 0;
  #next: number;
  #fresh = true;

  /** @param initial the first output sequence number (random by default, as RFC 3550 asks). */
  constructor(initial: number = Math.floor(Math.random() * 0x10000)) {
    this.#next = initial & 0xffff;
  }

  /** Output sequence number for an input one. */
  rewrite(seq: number): number {
    if (this.#fresh) {
      this.#fresh = false;
      this.#offset = (this.#next - seq) & 0xffff;
      this.#highest = this.#next;
    }
    const out = (seq + this.#offset) & 0xffff;
    if (seqDiff(out, this.#highest) > 0) this.#highest = out;
    return out;
  }

  /** The next input packet continues at (highest output so far) + 1. */
  reset(): void {
    if (!this.#fresh) this.#next = (this.#highest + 1) & 0xffff;
    this.#fresh = true;
  }

  /** Highest sequence number written so far (or the initial one before any). */
  get highest(): number {
    return this.#fresh ? (this.#next - 1) & 0xffff : this.#highest;
  }
}

/** How far the first timestamp after a reset should be from the last one written. */
export interface TimestampResetOptions {
  /** Exact step in clock units, e.g. 3000 for one 30 fps video frame or 1024 for one AAC frame. */
  delta?: number;
  /** Wall-clock time since the last packet was written; used with the rewriter's `clockRate`. */
  elapsedMs?: number;
}

/**
 * Maps input RTP timestamps onto one continuous output timeline.
 *
 * After `reset()`, the next input timestamp maps to the last output plus an expected step: the one
 * given to `reset()`, else `elapsedMs` converted with `clockRate`, else the smallest positive step
 * seen between input timestamps (one frame duration for a steady stream), else 1.
 *
 * @example
 * ```ts
 * const ts = new TimestampRewriter({ initial: 0, clockRate: 90000 });
 * ts.rewrite(123000); // 0
 * ts.rewrite(126000); // 3000
 * ts.reset();         // new source
 * ts.rewrite(5);      // 6000: continues one frame (3000) later
 * ```
 */
export class TimestampRewriter {
  readonly clockRate: number | undefined;
  #offset = 0;
  #highest = 0;
  #next: number;
  #fresh = true;
  #lastInput = 0;
  #hasInput = false;
  #step = 0;
  #segmentStep = 0;

  constructor(opts: { initial?: number; clockRate?: number } = {}) {
    this.#next = (opts.initial ?? Math.floor(Math.random() * 0x100000000)) >>> 0;
    this.clockRate = opts.clockRate;
  }

  /** Output timestamp for an input one. */
  rewrite(ts: number): number {
    ts >>>= 0;
    if (this.#fresh) {
      this.#fresh = false;
      this.#offset = (this.#next - ts) >>> 0;
      this.#highest = this.#next;
      this.#hasInput = false;
      this.#segmentStep = 0;
    }
    if (this.#hasInput) {
      const d = tsDiff(ts, this.#lastInput);
      if (d > 0 && (this.#segmentStep === 0 || d < this.#segmentStep)) {
        this.#segmentStep = d;
        this.#step = d;
      }
    }
    this.#lastInput = ts;
    this.#hasInput = true;
    const out = (ts + this.#offset) >>> 0;
    if (tsDiff(out, this.#highest) > 0) this.#highest = out;
    return out;
  }

  /** The next input timestamp continues after the highest output so far (see the class docs). */
  reset(opts: TimestampResetOptions = {}): void {
    if (!this.#fresh) {
      let delta = opts.delta;
      if (delta === undefined && opts.elapsedMs !== undefined && this.clockRate) {
        delta = Math.round((opts.elapsedMs * this.clockRate) / 1000);
      }
      if (delta === undefined || delta <= 0) delta = this.#step || 1;
      this.#next = (this.#highest + delta) >>> 0;
    }
    this.#fresh = true;
  }

  /** Smallest positive step between input timestamps seen in the current (or last) input. */
  get step(): number {
    return this.#step;
  }

  /** Highest timestamp written so far. */
  get highest(): number {
    return this.#highest;
  }
}

/** Options of {@link RtpRewriter}. */
export interface RtpRewriterOptions {
  /** Output SSRC (random by default). */
  ssrc?: number;
  /** First output sequence number (random by default). */
  sequenceNumber?: number;
  /** First output timestamp (random by default). */
  timestamp?: number;
  /** Codec clock, lets `reset({ elapsedMs })` convert wall-clock time. */
  clockRate?: number;
  /** Output payload type; the input's is kept when unset. */
  payloadType?: number;
  /** Start a new segment by itself when the input SSRC changes (default true). */
  resetOnSsrcChange?: boolean;
}

/**
 * Rewrites whole packets: sequence number, timestamp, SSRC and optionally payload type. Returns a new
 * packet object sharing the payload bytes (input packets may be shared with other viewers and must
 * not be mutated).
 *
 * @example
 * ```ts
 * const rw = new RtpRewriter({ ssrc: 0x1234, clockRate: 90000 });
 * receiver.onPacket = (pkt) => send(rw.rewrite(pkt));
 * source.onReconnect = () => rw.reset();
 * ```
 */
export class RtpRewriter {
  readonly ssrc: number;
  readonly sequence: SequenceRewriter;
  readonly timestamp: TimestampRewriter;
  readonly #payloadType: number | undefined;
  readonly #resetOnSsrc: boolean;
  #inputSsrc: number | undefined;

  constructor(opts: RtpRewriterOptions = {}) {
    this.ssrc = (opts.ssrc ?? Math.floor(Math.random() * 0x100000000)) >>> 0;
    this.sequence = new SequenceRewriter(opts.sequenceNumber);
    this.timestamp = new TimestampRewriter({ initial: opts.timestamp, clockRate: opts.clockRate });
    this.#payloadType = opts.payloadType;
    this.#resetOnSsrc = opts.resetOnSsrcChange ?? true;
  }

  /** A rewritten copy of `pkt` (same payload view). */
  rewrite(pkt: RtpPacket): RtpPacket {
    if (this.#resetOnSsrc && this.#inputSsrc !== undefined && pkt.ssrc !== this.#inputSsrc) this.reset();
    this.#inputSsrc = pkt.ssrc;
    const out: RtpPacket = {
      payloadType: this.#payloadType ?? pkt.payloadType,
      sequenceNumber: this.sequence.rewrite(pkt.sequenceNumber),
      timestamp: this.timestamp.rewrite(pkt.timestamp),
      ssrc: this.ssrc,
      marker: pkt.marker,
      payload: pkt.payload,
    };
    if (pkt.csrc) out.csrc = pkt.csrc;
    if (pkt.extension) out.extension = pkt.extension;
    return out;
  }

  /** The next packet continues the output after the last one (see {@link TimestampRewriter.reset}). */
  reset(opts?: TimestampResetOptions): void {
    this.sequence.reset();
    this.timestamp.reset(opts);
    this.#inputSsrc = undefined;
  }
}
