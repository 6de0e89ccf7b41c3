/**
 * Timing measurements of one track for `strom probe`: frame rate, GOP, bitrate and arrival jitter,
 * computed from what a source delivered over a few seconds.
 *
 * Definitions (media time = frame timestamp / clock rate; arrival = local monotonic clock when the
 * source handed the frame over, i.e. when its last RTP packet arrived for RTP sources):
 *
 * ```text
 * fps          (distinct presentation times - 1) / (last - first presentation time)
 * fps_arrival  (frames - 1) / (last arrival - first arrival)
 * gop          frames shown from one keyframe up to the next, and the media seconds between them
 *              (mean, min, max), in presentation order (timestamp + cts), as players count them
 * bitrate      bytes of every frame but the last / media time from first to last frame
 *              (payload bits: no RTP/container overhead)
 * D(i)         (R(i) - R(i-1)) - (S(i) - S(i-1))     R arrival, S media time, both in ms
 * jitter_ms    RFC 3550 section 6.4.1 estimator over D: J += (|D| - J) / 16
 * stddev_ms    standard deviation of D (how irregular frames arrive against their timestamps)
 * max_ms       largest |D|
 * spread_ms    max - min of (R(i) - S(i)): the buffering a player needs to play smoothly
 * burst        the leading run (3 or more) of frames that each arrived within a quarter of their
 *              timestamp step after the previous one: frames delivered at once at the start (a
 *              server's GOP cache, a camera's buffer). They are counted, and the figures above start
 *              at the last of them.
 * ```
 *
 * @module
 */
import type { Codec } from "../lib/core/codec.ts";
import type { Frame } from "../lib/core/frame.ts";
import { splitAvcc } from "../lib/codec/annexb/avcc.ts";
import { describeSps, type SpsReport } from "./codec_info.ts";

/** GOP facts of a video track. */
export interface GopReport {
  /** Keyframes seen. */
  keyframes: number;
  /** Mean frames from one keyframe to the next (null with fewer than two keyframes). */
  frames: number | null;
  /** Mean media seconds between keyframes (null with fewer than two keyframes). */
  seconds: number | null;
  min_frames?: number;
  max_frames?: number;
  /** With fewer than two keyframes: the GOP is at least this many frames. */
  at_least_frames?: number;
}

/** Arrival jitter of a track, in milliseconds. */
export interface JitterReport {
  /** Leading frames delivered in a catch-up burst (left out of the figures below). */
  startup_burst_frames: number;
  jitter_ms: number;
  stddev_ms: number;
  max_ms: number;
  spread_ms: number;
}

/** The measured part of a track report. */
export interface TrackMeasurements {
  frames: number;
  bytes: number;
  /** Media time from the first to the last frame, seconds. */
  duration_s: number;
  /** Frames per second from the timestamps (video). */
  fps: number | null;
  /** Frames per second by arrival (video). */
  fps_arrival: number | null;
  /** Median media time between frames, ms. */
  frame_interval_ms: number | null;
  gop: GopReport | null;
  bitrate_bps: number | null;
  jitter: JitterReport | null;
  /** Timestamp steps that went backwards or were over 3x the median step (lost frames, resets). */
  timestamp_gaps: number;
  /** Picture facts from the first SPS seen in band (when the fmtp had none). */
  sps?: SpsReport;
}

const TWO_32 = 0x100000000;

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Collects one track's frames with their arrival times and computes {@link TrackMeasurements}.
 *
 * @example
 * ```ts
 * const stats = new TrackStats("video", { name: "H264", clockRate: 90000 });
 * stats.observe(frame, performance.now());
 * const report = stats.result();
 * ```
 */
export class TrackStats {
  readonly kind: "video" | "audio";
  readonly codec: Codec;
  // One entry per frame; a few seconds of frames is small, and keeping them makes the statistics exact.
  readonly #ts: number[] = [];
  /** Presentation times: timestamp + composition offset. */
  readonly #pts: number[] = [];
  readonly #arrival: number[] = [];
  readonly #size: number[] = [];
  readonly #key: boolean[] = [];
  #lastRaw = 0;
  #lastExt = 0;
  #sps: SpsReport | undefined;
  #lookForSps: boolean;

  constructor(kind: "video" | "audio", codec: Codec, options: { inBandSps?: boolean } = {}) {
    this.kind = kind;
    this.codec = codec;
    const name = codec.name.toUpperCase();
    this.#lookForSps = (options.inBandSps ?? true) && (name === "H264" || name === "H265");
  }

  /** Frames observed so far. */
  get frames(): number {
    return this.#ts.length;
  }

  /** Records a frame that arrived at `arrivalMs` (a monotonic clock such as `performance.now()`). */
  observe(frame: Frame, arrivalMs: number): void {
    const raw = frame.timestamp;
    let ext = raw;
    if (this.#ts.length) {
      let delta = raw - this.#lastRaw;
      // RTP timestamps are 32 bits and wrap (RFC 3550 section 5.1); unwrap steps across the wrap.
      if (raw < TWO_32 && this.#lastRaw < TWO_32) {
        if (delta < -TWO_32 / 2) delta += TWO_32;
        else if (delta > TWO_32 / 2) delta -= TWO_32;
      }
      ext = this.#lastExt + delta;
    }
    this.#lastRaw = raw;
    this.#lastExt = ext;
    this.#ts.push(ext);
    this.#pts.push(ext + (frame.cts ?? 0));
    this.#arrival.push(arrivalMs);
    this.#size.push(frame.data.length);
    this.#key.push(frame.keyframe);
    if (this.#lookForSps && frame.keyframe) this.#findSps(frame.data);
  }

  #findSps(data: Uint8Array): void {
    const h264 = this.codec.name.toUpperCase() === "H264";
    try {
      for (const nal of splitAvcc(data)) {
        if (!nal.length) continue;
        const type = h264 ? nal[0] & 0x1f : (nal[0] >> 1) & 0x3f;
        if (type !== (h264 ? 7 : 33)) continue;
        const sps = describeSps(this.codec.name, nal);
        if (sps) {
          this.#sps = sps;
          this.#lookForSps = false;
        }
        return;
      }
    } catch { /* not AVCC framed: nothing to learn */ }
  }

  /** Computes the measurements from the frames seen. */
  result(): TrackMeasurements {
    const n = this.#ts.length;
    const clock = this.codec.clockRate || 90000;
    const ts = this.#ts;
    const arrival = this.#arrival;
    const out: TrackMeasurements = {
      frames: n,
      bytes: this.#size.reduce((a, b) => a + b, 0),
      duration_s: 0,
      fps: null,
      fps_arrival: null,
      frame_interval_ms: null,
      gop: null,
      bitrate_bps: null,
      jitter: null,
      timestamp_gaps: 0,
    };
    if (this.#sps) out.sps = this.#sps;
    if (n < 2) {
      if (this.kind === "video") out.gop = this.#gop(clock);
      return out;
    }

    // Presentation order: with B-frames, decode timestamps (MPEG-TS sources) and presentation
    // timestamps (RTP sources) differ in order; sorted distinct presentation times give the frame
    // grid either way.
    const sorted = [...new Set(this.#pts)].sort((a, b) => a - b);
    const steps: number[] = [];
    for (let i = 1; i < sorted.length; i++) steps.push(sorted[i] - sorted[i - 1]);
    const med = steps.length ? median(steps) : 0;
    if (med > 0) out.frame_interval_ms = round((med * 1000) / clock, 3);
    // Lost frames leave holes in the grid; a source restart jumps back by more than a second.
    let gaps = med > 0 ? steps.filter((d) => d > 3 * med).length : 0;
    for (let i = 1; i < n; i++) if (ts[i] - ts[i - 1] < -clock) gaps++;
    out.timestamp_gaps = gaps;

    const span = sorted.length ? sorted[sorted.length - 1] - sorted[0] : 0;
    out.duration_s = round(span / clock, 3);
    const burst = this.#burst();
    // Rates are measured over the presentation-time window known complete: with B-frames the
    // first and last few received frames leave holes at the edges of the grid.
    const [from, to] = this.#completeWindow();
    const inWindow = this.#pts.map((p, i) => (p >= from && p < to ? i : -1)).filter((i) => i >= 0);
    const windowFrames = new Set(inWindow.map((i) => this.#pts[i])).size;
    if (this.kind === "video") {
      if (to > from) out.fps = round((windowFrames * clock) / (to - from), 2);
      const wall = arrival[n - 1] - arrival[burst];
      if (wall > 0) out.fps_arrival = round(((n - 1 - burst) * 1000) / wall, 2);
      out.gop = this.#gop(clock);
    }
    if (to > from) {
      let bytes = 0;
      for (const i of inWindow) bytes += this.#size[i];
      out.bitrate_bps = Math.round((bytes * 8 * clock) / (to - from));
    }
    out.jitter = this.#jitter(clock, burst);
    return out;
  }

  /**
   * The presentation-time window `[from, to)` in which every frame was received: frames are
   * reordered by at most `depth` positions between decode and presentation order, so every frame
   * shown after the latest of the first `depth + 1` received, and before the earliest of the last
   * `depth + 1`, has arrived. Without B-frames it is first frame to last frame.
   */
  #completeWindow(): [number, number] {
    const pts = this.#pts;
    const n = pts.length;
    const order = pts.map((_, i) => i).sort((a, b) => pts[a] - pts[b] || a - b);
    let depth = 0;
    for (let rank = 0; rank < n; rank++) depth = Math.max(depth, Math.abs(order[rank] - rank));
    depth = Math.min(depth, n >> 2);
    let from = -Infinity;
    for (let i = 0; i <= depth; i++) from = Math.max(from, pts[i]);
    let to = Infinity;
    for (let i = n - 1 - depth; i < n; i++) to = Math.min(to, pts[i]);
    return [from, to];
  }

  /**
   * Index of the last frame of a catch-up burst at the start (0 when there is none): the leading
   * run of frames that each arrived less than a quarter of their timestamp step after the previous
   * one. A run of fewer than 3 such frames is ordinary jitter, not a burst.
   */
  #burst(): number {
    const ts = this.#ts;
    const arrival = this.#arrival;
    let k = 0;
    while (k + 1 < ts.length) {
      const step = ts[k + 1] - ts[k];
      // Frames sharing a timestamp say nothing; a backwards step ends the run.
      if (step < 0) break;
      if (step > 0 && arrival[k + 1] - arrival[k] >= (step * 1000 / (this.codec.clockRate || 90000)) / 4) {
        break;
      }
      k++;
    }
    return k >= 2 ? k : 0;
  }

  // GOPs in presentation order: a keyframe's GOP is every frame shown from it up to the next one
  // (with B-frames the decode order puts leading pictures before or after the keyframe).
  #gop(clock: number): GopReport {
    const pts = this.#pts;
    const keys: number[] = [];
    for (let i = 0; i < this.#key.length; i++) if (this.#key[i]) keys.push(pts[i]);
    keys.sort((a, b) => a - b);
    const report: GopReport = { keyframes: keys.length, frames: null, seconds: null };
    const countFrom = (from: number, to: number) => pts.filter((p) => p >= from && p < to).length;
    if (keys.length < 2) {
      report.at_least_frames = keys.length ? countFrom(keys[0], Infinity) : pts.length;
      return report;
    }
    const frames: number[] = [];
    const seconds: number[] = [];
    for (let i = 1; i < keys.length; i++) {
      frames.push(countFrom(keys[i - 1], keys[i]));
      seconds.push((keys[i] - keys[i - 1]) / clock);
    }
    report.frames = round(frames.reduce((a, b) => a + b, 0) / frames.length, 2);
    report.seconds = round(seconds.reduce((a, b) => a + b, 0) / seconds.length, 3);
    report.min_frames = Math.min(...frames);
    report.max_frames = Math.max(...frames);
    return report;
  }

  #jitter(clock: number, from: number): JitterReport | null {
    const ts = this.#ts.slice(from);
    const arrival = this.#arrival.slice(from);
    const toMs = 1000 / clock;
    let j = 0;
    let max = 0;
    let sum = 0;
    let sumSq = 0;
    let count = 0;
    let minTransit = Infinity;
    let maxTransit = -Infinity;
    for (let i = 0; i < ts.length; i++) {
      const transit = arrival[i] - ts[i] * toMs;
      if (transit < minTransit) minTransit = transit;
      if (transit > maxTransit) maxTransit = transit;
      // Frames sharing a timestamp (several slices or AUs of one packet) say nothing about timing.
      if (i === 0 || ts[i] === ts[i - 1]) continue;
      const d = (arrival[i] - arrival[i - 1]) - (ts[i] - ts[i - 1]) * toMs;
      const abs = Math.abs(d);
      j += (abs - j) / 16;
      if (abs > max) max = abs;
      sum += d;
      sumSq += d * d;
      count++;
    }
    if (!count) return null;
    const mean = sum / count;
    const variance = Math.max(0, sumSq / count - mean * mean);
    return {
      startup_burst_frames: from ? from + 1 : 0,
      jitter_ms: round(j, 3),
      stddev_ms: round(Math.sqrt(variance), 3),
      max_ms: round(max, 3),
      spread_ms: round(maxTransit - minTransit, 3),
    };
  }
}
