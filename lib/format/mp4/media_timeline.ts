/**
 * Turns frame timestamps (codec clock, often 32-bit RTP values that wrap) into a monotonic decode
 * time for a muxer, surviving wraps and source restarts.
 *
 * - A step back by more than 2^31 is a 32-bit wrap and moves forward instead.
 * - A step back, or a jump forward beyond `maxJump` (a reconnected camera with a new RTP base, a
 *   long outage), is a discontinuity: the time advances by the last good frame duration instead, so
 *   players neither stall on a gap nor see time run backwards.
 *
 * Shared by the MP4, MPEG-TS and FLV muxers.
 *
 * @module
 */

const WRAP = 0x100000000;

/**
 * Muxers with a `shared` time base: a track whose first timestamp is further than this from where
 * the other tracks have got to does not share their clock (RTP tracks each start at a random
 * base), and is placed by arrival instead.
 */
export const MAX_SHARED_SKEW_SECONDS = 3;

/** Options of a {@link MediaTimeline}. */
export interface MediaTimelineOptions {
  /** Ticks per second of the input timestamps (the codec clock). */
  clockRate: number;
  /** Largest forward step accepted as continuous, in seconds. Default 10. */
  maxJumpSeconds?: number;
  /** Step used at a discontinuity before any frame duration is known, in clock ticks. */
  defaultDuration?: number;
}

/**
 * Extends and sanitises one track's timestamps.
 *
 * @example
 * ```ts
 * const tl = new MediaTimeline({ clockRate: 90000, defaultDuration: 3600 });
 * tl.next(4294964000); // 0
 * tl.next(300);        // 3596: wrapped, still increasing
 * ```
 */
export class MediaTimeline {
  readonly clockRate: number;
  /** Discontinuities seen so far (backward steps or jumps). */
  discontinuities = 0;
  /** Last step that was accepted as continuous, in clock ticks (0 before the second frame). */
  lastDelta = 0;
  readonly #maxJump: number;
  readonly #defaultDuration: number;
  #lastRaw: number | undefined;
  #time = 0;

  constructor(options: MediaTimelineOptions) {
    this.clockRate = options.clockRate;
    this.#maxJump = (options.maxJumpSeconds ?? 10) * options.clockRate;
    this.#defaultDuration = options.defaultDuration ?? Math.max(1, Math.round(options.clockRate / 25));
  }

  /** Whether a first timestamp was seen. */
  get started(): boolean {
    return this.#lastRaw !== undefined;
  }

  /**
   * The monotonic time of a frame, in clock ticks since this track's first frame.
   *
   * @param fallback duration to step by at a discontinuity (e.g. the known audio frame length).
   * @example
   * ```ts
   * const dts = timeline.next(frame.timestamp);
   * ```
   */
  next(timestamp: number, fallback?: number): number {
    if (this.#lastRaw === undefined) {
      this.#lastRaw = timestamp;
      this.#time = 0;
      return 0;
    }
    let delta = timestamp - this.#lastRaw;
    if (delta < -WRAP / 2) delta += WRAP;
    else if (delta > WRAP / 2 && timestamp < WRAP) delta -= WRAP;
    this.#lastRaw = timestamp;
    if (delta < 0 || delta > this.#maxJump) {
      this.discontinuities++;
      delta = fallback ?? (this.lastDelta || this.#defaultDuration);
    } else if (delta > 0) {
      this.lastDelta = delta;
    }
    this.#time += delta;
    return this.#time;
  }

  /** The time of the last frame returned by {@link next}. */
  get time(): number {
    return this.#time;
  }
}
