/**
 * The last group of pictures of a video track: the latest keyframe and every frame after it,
 * bounded in bytes and in time. New viewers and snapshots start from it instead of waiting for the
 * camera's next keyframe.
 *
 * @module
 */
import type { Frame } from "./frame.ts";

/** Limits of a GOP cache. */
export interface GopCacheOptions {
  /** Bytes kept at most; past this the cache empties until the next keyframe. Default 8 MiB. */
  maxBytes?: number;
  /** Frames kept at most. Default 1024. */
  maxFrames?: number;
  /** Span kept at most, in codec clock units. Default 20 s at 90 kHz. */
  maxDuration?: number;
}

/**
 * A bounded cache of the current GOP.
 *
 * @example
 * ```ts
 * const gop = new GopCache({ maxBytes: 4 << 20 });
 * gop.push(frame);
 * const key = gop.keyframe(); // latest keyframe, for a snapshot
 * ```
 */
export class GopCache {
  readonly maxBytes: number;
  readonly maxFrames: number;
  readonly maxDuration: number;
  #frames: Frame[] = [];
  #bytes = 0;
  #overflowed = false;

  constructor(options: GopCacheOptions = {}) {
    this.maxBytes = options.maxBytes ?? 8 * 1024 * 1024;
    this.maxFrames = options.maxFrames ?? 1024;
    this.maxDuration = options.maxDuration ?? 20 * 90000;
  }

  /** Bytes held now. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Frames held now. */
  get size(): number {
    return this.#frames.length;
  }

  /** Adds a frame: a keyframe starts a new GOP; other frames extend the current one if it fits. */
  push(frame: Frame): void {
    if (frame.keyframe) {
      this.#frames = [frame];
      this.#bytes = frame.data.length;
      this.#overflowed = frame.data.length > this.maxBytes;
      if (this.#overflowed) this.clear();
      return;
    }
    if (this.#overflowed || this.#frames.length === 0) return;
    const first = this.#frames[0];
    if (
      this.#bytes + frame.data.length > this.maxBytes ||
      this.#frames.length >= this.maxFrames ||
      ((frame.timestamp - first.timestamp) >>> 0) > this.maxDuration
    ) {
      // A partial GOP is useless to a decoder; drop it all until the next keyframe.
      this.clear();
      this.#overflowed = true;
      return;
    }
    this.#frames.push(frame);
    this.#bytes += frame.data.length;
  }

  /** The cached frames, keyframe first. */
  frames(): readonly Frame[] {
    return this.#frames;
  }

  /** The latest keyframe, if one is cached. */
  keyframe(): Frame | undefined {
    return this.#frames[0];
  }

  /** Empties the cache. */
  clear(): void {
    this.#frames = [];
    this.#bytes = 0;
  }
}
