/**
 * The clock behind an RTSP viewer track's RTCP sender reports: which output RTP timestamp is which
 * wallclock instant (RFC 3550 section 6.4.1; the packet itself is built in sender_report.ts).
 *
 * A report maps the track's output RTP clock (the rewritten timeline the viewer sees) to the
 * wallclock, one wallclock for every track of a session: players (ffmpeg, VLC, Frigate) line audio
 * up with video by it. The clock says: output timestamp {@link TrackClock.rtpTimestamp} is the
 * instant {@link TrackClock.atMs} (`performance.now()` ms), advancing at the codec clock rate. It is
 * - started at PLAY so that RTP-Info's rtptime is the PLAY instant on every track (what RFC 2326
 *   12.33 says it is); ffmpeg times packets from rtptime until the first report, so the report
 *   agrees with what it already did and no timestamp jumps;
 * - the base the first frames (the GOP cache, or a burst) are placed on, so that the newest is
 *   "now" (the newest cached frame a frame interval before: it came in before PLAY), see
 *   {@link firstFramesStart};
 * - corrected at each report from the live frames since the last one (the earliest-arriving frame
 *   tells the truth: jitter and bursts only delay), later at once, earlier by at most 10 ms per
 *   report so a player's timestamps never step back by a frame.
 * A source reconnect continues the timeline where the clock is, so the mapping stays continuous.
 * Per frame only a few numbers change; nothing is allocated.
 *
 * @module
 */
import type { Frame } from "../../core/frame.ts";
import { clockCorrection, extrapolateRtpTimestamp, lateness } from "./sender_report.ts";

/**
 * One track's RTP clock against the monotonic wallclock.
 *
 * @example
 * ```ts
 * const clock = new TrackClock(90000);
 * clock.start(1234, performance.now());     // at PLAY: rtptime 1234 is now
 * clock.rtpTimestampAt(performance.now());  // 1234 + elapsed ms x 90
 * ```
 */
export class TrackClock {
  /** The codec clock rate (ticks per second); 0 for codecs without one (no reports then). */
  readonly clockRate: number;
  /** Output RTP timestamp at the instant {@link atMs}. */
  rtpTimestamp = 0;
  /** The `performance.now()` instant of {@link rtpTimestamp}; -1 before {@link start}. */
  atMs = -1;
  /**
   * Lowest lateness (clock ticks) of a live frame against the clock since the last correction:
   * `Infinity` when none. Jitter and bursts only make frames late, so the lowest is the truth.
   */
  minLateness = Infinity;

  constructor(clockRate: number) {
    this.clockRate = clockRate;
  }

  /** Whether the clock was started (reports need it). */
  get started(): boolean {
    return this.atMs >= 0;
  }

  /** Whether it advances (a clock rate is known), so timestamps can be extrapolated on it. */
  get ticking(): boolean {
    return this.clockRate > 0;
  }

  /** Starts the clock: `rtpTimestamp` is the instant `nowMs`. */
  start(rtpTimestamp: number, nowMs: number): void {
    this.rtpTimestamp = rtpTimestamp;
    this.atMs = nowMs;
  }

  /** The output RTP timestamp of the instant `nowMs` (the start timestamp when not ticking). */
  rtpTimestampAt(nowMs: number): number {
    return this.ticking ? extrapolateRtpTimestamp(this.rtpTimestamp, this.atMs, nowMs, this.clockRate) : this.rtpTimestamp;
  }

  /**
   * After a live frame went out with output timestamp `sentTimestamp`: keeps the reference recent
   * (so tick counts stay far inside 32 bits) and, when `live`, records how late the frame was.
   */
  observe(sentTimestamp: number, nowMs: number, live: boolean): void {
    if (!this.ticking) return;
    if (nowMs - this.atMs > 10_000) {
      this.rtpTimestamp = extrapolateRtpTimestamp(this.rtpTimestamp, this.atMs, nowMs, this.clockRate);
      this.atMs = nowMs;
    }
    if (!live) return;
    const late = lateness(this.rtpTimestamp, this.atMs, nowMs, this.clockRate, sentTimestamp);
    if (late < this.minLateness) this.minLateness = late;
  }

  /**
   * Moves the clock by what the live frames since the last correction showed (later at once,
   * earlier 10 ms at a time: see clockCorrection), before a report.
   */
  correct(): void {
    const step = clockCorrection(this.minLateness, this.clockRate);
    this.minLateness = Infinity;
    if (step !== 0) this.rtpTimestamp = (this.rtpTimestamp - step) >>> 0;
  }
}

/**
 * The output timestamp of the first of a track's first frames, placed so that the newest of them
 * is "now" on the clock and the older ones lie before it (placing the first frame at "now" instead
 * would put a burst's newest frame up to the burst's length in the future, and the clock would need
 * long to come back). `fromGopCache`: they were queued before PLAY, so the newest came in up to a
 * frame interval earlier; it is placed a full interval back, erring on the side the clock corrects
 * at once (frames look late).
 *
 * @example
 * ```ts
 * const start = firstFramesStart(track.clock, heldFrames, performance.now(), true);
 * track.timeline = new TimestampRewriter({ initial: start, clockRate: 90000 });
 * ```
 */
export function firstFramesStart(
  clock: TrackClock,
  frames: readonly Frame[],
  nowMs: number,
  fromGopCache: boolean,
): number {
  let newest = clock.rtpTimestampAt(nowMs);
  if (fromGopCache) {
    let interval = 0;
    for (let i = 1; i < frames.length; i++) {
      const d = (frames[i].timestamp - frames[i - 1].timestamp) | 0;
      if (d > 0 && (interval === 0 || d < interval)) interval = d;
    }
    newest = (newest - interval) >>> 0;
  }
  const span = (frames[frames.length - 1].timestamp - frames[0].timestamp) | 0;
  return (newest - Math.max(0, span)) >>> 0;
}
