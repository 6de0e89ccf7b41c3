/**
 * Cuts a muxed live stream into HLS media segments and keeps the latest ones, bounded in count and
 * bytes.
 *
 * A segment starts at a cut point (a video keyframe; any audio frame for audio-only streams) once
 * the current one reached the target duration, so every segment starts decodable. A segment that
 * grows past a third of the byte budget without a keyframe (a camera with a very long GOP) is cut
 * anyway, and finished segments are dropped from the front past two thirds of it: the session
 * stays within its budget (plus one frame), at the cost of a segment that starts mid-GOP.
 *
 * @module
 */

/**
 * Segments a live media playlist lists before it is first served, and keeps listing.
 *
 * RFC 8216 section 6.2.2 wants a live playlist to span three target durations, and players start
 * three segments from its end. Chromium's native HLS (`<video src=...m3u8>`) depends on it: it
 * starts from the last three segments, and when play begins after its queue ran dry (a playlist of
 * one or two segments) it reloads the playlist, finds no segment newer than the ones it had, and
 * fails with `DEMUXER_ERROR_COULD_NOT_PARSE` ("Segment queue never had any data").
 *
 * @example
 * ```ts
 * await segmenter.waitFor(LIVE_PLAYLIST_MIN_SEGMENTS - 1, 10_000); // before the first playlist
 * ```
 */
export const LIVE_PLAYLIST_MIN_SEGMENTS = 3;

/** A finished segment. */
export interface HlsSegment {
  /** Media sequence number (`n=` in segment URLs). */
  sequence: number;
  /** Seconds. */
  duration: number;
  /**
   * When its first frame was captured, as far as this server can tell (ms since the epoch): the
   * playlist's `EXT-X-PROGRAM-DATE-TIME`. See {@link HlsSegmenterOptions.clock}.
   */
  programDateTime: number;
  data: Uint8Array;
}

/** Options of an {@link HlsSegmenter}. */
export interface HlsSegmenterOptions {
  /** Seconds a segment lasts at least before the next cut point ends it. Default 1. */
  targetDuration?: number;
  /** Segments kept. Default 6, at least {@link LIVE_PLAYLIST_MIN_SEGMENTS}. */
  maxSegments?: number;
  /** Bytes kept over all segments, the one being written included. Default 16 MB. */
  maxBytes?: number;
  /**
   * The wall clock (ms since the epoch; default `Date.now`). A frame's capture time is taken as the
   * earliest `arrival - media time` seen (the frames that came with the least delay, e.g. the end
   * of a replayed GOP cache), so segments' dates follow the media's timeline; when a frame arrives
   * more than {@link PROGRAM_DATE_RESYNC_MS} later than that (the source paused) the dates start
   * again from it.
   */
  clock?: () => number;
}

/** How far arrivals may fall behind the media's own timeline before segment dates are taken from the clock again. */
export const PROGRAM_DATE_RESYNC_MS = 3000;

/**
 * The segment list of one HLS session.
 *
 * @example
 * ```ts
 * const seg = new HlsSegmenter({ targetDuration: 1 });
 * seg.frame(timeSeconds, frame.keyframe); // before muxing a frame of the timing track
 * seg.append(tsBytes);                    // what the muxer made of it
 * seg.segments; // finished segments, oldest first
 * ```
 */
export class HlsSegmenter {
  readonly targetDuration: number;
  readonly maxSegments: number;
  readonly maxBytes: number;
  /** Finished segments, oldest first. */
  readonly segments: HlsSegment[] = [];
  /** Segments cut before a cut point because of the byte budget. */
  forcedCuts = 0;
  /** Segments dropped from the front to respect the limits. */
  evicted = 0;

  #chunks: Uint8Array[] = [];
  #currentBytes = 0;
  #storedBytes = 0;
  #start = 0;
  #now = 0;
  #open = false;
  #nextSequence = 0;
  #waiters: (() => void)[] = [];
  #closed = false;
  readonly #clock: () => number;
  /** Wall time (ms since the epoch) of media time 0; NaN before the first frame. */
  #epoch = NaN;

  constructor(options: HlsSegmenterOptions = {}) {
    this.#clock = options.clock ?? Date.now;
    this.targetDuration = options.targetDuration ?? 1;
    this.maxSegments = Math.max(LIVE_PLAYLIST_MIN_SEGMENTS, options.maxSegments ?? 6);
    this.maxBytes = options.maxBytes ?? 16_000_000;
  }

  /** Bytes held: finished segments plus the one being written. */
  get bytes(): number {
    return this.#storedBytes + this.#currentBytes;
  }

  /** The sequence number the next finished segment gets. */
  get nextSequence(): number {
    return this.#nextSequence;
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Announces a frame of the timing track at `time` (seconds, increasing). When `cutPoint` is set
   * and the current segment is long enough, the segment is finished first.
   */
  frame(time: number, cutPoint: boolean): void {
    this.#now = time;
    // An earlier capture estimate counts at once; a resync after a pause only from the segment this
    // frame starts (the one it ends was captured before the pause).
    const epoch = this.#clock() - time * 1000;
    if (!(epoch >= this.#epoch)) this.#epoch = epoch;
    this.#cut(time, cutPoint);
    if (epoch - this.#epoch > PROGRAM_DATE_RESYNC_MS) this.#epoch = epoch;
  }

  #cut(time: number, cutPoint: boolean): void {
    if (!this.#open || this.#currentBytes === 0) return;
    const elapsed = time - this.#start;
    const force = this.#currentBytes > this.maxBytes / 3;
    if ((cutPoint && elapsed >= this.targetDuration) || force) {
      if (force && !(cutPoint && elapsed >= this.targetDuration)) this.forcedCuts++;
      this.#finish(time);
    }
  }

  /** Adds muxed bytes to the current segment (starting one at the current time if needed). */
  append(bytes: Uint8Array): void {
    if (this.#closed || bytes.byteLength === 0) return;
    if (!this.#open) {
      this.#open = true;
      this.#start = this.#now;
    }
    this.#chunks.push(bytes);
    this.#currentBytes += bytes.byteLength;
  }

  /** The finished segment with this sequence number, if still kept. */
  get(sequence: number): HlsSegment | undefined {
    const first = this.segments[0];
    if (!first) return undefined;
    return this.segments[sequence - first.sequence];
  }

  /**
   * Resolves once a segment with sequence >= `sequence` is finished (true), or false when the
   * segmenter closed or `timeoutMs` passed.
   */
  waitFor(sequence: number, timeoutMs: number): Promise<boolean> {
    if (this.#nextSequence > sequence) return Promise.resolve(true);
    if (this.#closed) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined = undefined;
      const check = () => {
        if (this.#nextSequence > sequence || this.#closed) {
          if (timer !== undefined) clearTimeout(timer);
          resolve(this.#nextSequence > sequence);
          return true;
        }
        return false;
      };
      const waiter = () => {
        if (!check()) this.#waiters.push(waiter);
      };
      this.#waiters.push(waiter);
      timer = setTimeout(() => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        resolve(this.#nextSequence > sequence);
      }, timeoutMs);
    });
  }

  /** Drops everything and wakes waiters. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.segments.length = 0;
    this.#chunks = [];
    this.#currentBytes = 0;
    this.#storedBytes = 0;
    this.#wake();
  }

  #finish(end: number): void {
    const data = new Uint8Array(this.#currentBytes);
    let p = 0;
    for (const c of this.#chunks) {
      data.set(c, p);
      p += c.byteLength;
    }
    const duration = Math.max(0.001, end - this.#start);
    // #finish runs from frame(), which has set the epoch.
    const programDateTime = Math.round(this.#epoch + this.#start * 1000);
    this.segments.push({ sequence: this.#nextSequence++, duration, programDateTime, data });
    this.#storedBytes += data.byteLength;
    this.#chunks = [];
    this.#currentBytes = 0;
    this.#start = end;
    while (
      this.segments.length > 1 &&
      (this.segments.length > this.maxSegments || this.#storedBytes > (this.maxBytes * 2) / 3)
    ) {
      this.#storedBytes -= this.segments.shift()!.data.byteLength;
      this.evicted++;
    }
    this.#wake();
  }

  #wake(): void {
    if (!this.#waiters.length) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}
