/**
 * The last seconds of an audio track, with the time each frame arrived, so a new viewer that
 * starts its video from the cached GOP (seconds in the past) gets the audio of the same moment and
 * the two stay in sync. Without it the muxers would start video at the cached keyframe and audio
 * live, both at time 0: audio ahead of video by the whole cached span.
 *
 * Bounded by age and bytes. Frame bytes are copied into one buffer that is compacted in place
 * when it fills, so frames die young as in the GOP cache (gop_cache.ts); one small entry object per
 * cached frame is the only allocation.
 *
 * @module
 */
import type { Frame } from "./frame.ts";

/** Limits of an audio cache. */
export interface AudioCacheOptions {
  /** Age kept at most, in ms (arrival time). Default 20 000, the GOP cache's default span. */
  maxAgeMs?: number;
  /** Bytes kept at most; the oldest frames go first. Default 1 MiB. */
  maxBytes?: number;
}

interface Entry {
  timestamp: number;
  keyframe: boolean;
  arrival: number;
  offset: number;
  length: number;
}

/**
 * A rolling window of audio frames.
 *
 * @example
 * ```ts
 * const cache = new AudioCache();
 * cache.push(frame, performance.now());
 * const since = cache.framesSince(videoKeyframeArrival);
 * ```
 */
export class AudioCache {
  readonly maxAgeMs: number;
  readonly maxBytes: number;
  #entries: Entry[] = [];
  #head = 0;
  #buffer = new Uint8Array(0);
  #used = 0;
  #bytes = 0;

  constructor(options: AudioCacheOptions = {}) {
    this.maxAgeMs = options.maxAgeMs ?? 20_000;
    this.maxBytes = options.maxBytes ?? 1024 * 1024;
  }

  /** Frames held now. */
  get size(): number {
    return this.#entries.length - this.#head;
  }

  /** Adds a frame that arrived at `arrival` (ms, `performance.now()`), dropping what is too old. */
  push(frame: Frame, arrival: number): void {
    const len = frame.data.length;
    if (len > this.maxBytes) return;
    const entries = this.#entries;
    while (
      this.#head < entries.length &&
      (arrival - entries[this.#head].arrival > this.maxAgeMs || this.#bytes + len > this.maxBytes)
    ) {
      this.#bytes -= entries[this.#head].length;
      this.#head++;
    }
    if (this.#used + len > this.#buffer.length) this.#compact(len);
    this.#buffer.set(frame.data, this.#used);
    // #compact() replaces the entry list: push to the current one.
    this.#entries.push({ timestamp: frame.timestamp, keyframe: frame.keyframe, arrival, offset: this.#used, length: len });
    this.#used += len;
    this.#bytes += len;
  }

  // Moves the live frames to the front of the buffer (growing it when they and `need` do not fit).
  #compact(need: number): void {
    const live = this.#entries.slice(this.#head);
    const start = live.length ? live[0].offset : this.#used;
    const liveBytes = this.#used - start;
    let buffer = this.#buffer;
    if (liveBytes + need > buffer.length || buffer.length === 0) {
      buffer = new Uint8Array(Math.max(64 * 1024, 2 * (liveBytes + need)));
      buffer.set(this.#buffer.subarray(start, this.#used));
    } else {
      buffer.copyWithin(0, start, this.#used);
    }
    for (const e of live) e.offset -= start;
    this.#buffer = buffer;
    this.#entries = live;
    this.#head = 0;
    this.#used = liveBytes;
  }

  /**
   * Copies of the frames that arrived at or after `since` (ms), oldest first; empty when none.
   *
   * @example
   * ```ts
   * sender.replay(cache.framesSince(keyframeArrival));
   * ```
   */
  framesSince(since: number): Frame[] {
    const entries = this.#entries;
    let i = this.#head;
    while (i < entries.length && entries[i].arrival < since) i++;
    if (i >= entries.length) return [];
    const first = entries[i].offset;
    const copy = this.#buffer.slice(first, this.#used);
    const out: Frame[] = new Array(entries.length - i);
    for (let k = 0; i < entries.length; i++, k++) {
      const e = entries[i];
      out[k] = { timestamp: e.timestamp, keyframe: e.keyframe, data: copy.subarray(e.offset - first, e.offset - first + e.length) };
    }
    return out;
  }

  /** Empties the cache. */
  clear(): void {
    this.#entries = [];
    this.#head = 0;
    this.#used = 0;
    this.#bytes = 0;
  }
}
