/**
 * Recently made JPEG snapshots, for `/api/frame.jpeg?cache=10s`: a busy dashboard polling many
 * cameras reuses a fresh JPEG instead of running ffmpeg per request. Bounded in entries.
 *
 * @module
 */

/** One cached snapshot. */
export interface CachedJpeg {
  jpeg: Uint8Array;
  /** When it was made (ms since epoch). */
  at: number;
}

/**
 * Snapshots by key (stream name + picture options), oldest evicted first.
 *
 * @example
 * ```ts
 * const cache = new JpegSnapshotCache();
 * const hit = cache.get("door|w=320", 10_000);
 * if (!hit) cache.set("door|w=320", await encodeJpeg(codec, frame, { width: 320 }));
 * ```
 */
export class JpegSnapshotCache {
  readonly maxEntries: number;
  readonly #entries = new Map<string, CachedJpeg>();

  constructor(maxEntries = 64) {
    this.maxEntries = maxEntries;
  }

  /** The snapshot for `key` if it is younger than `maxAgeMs`. */
  get(key: string, maxAgeMs: number, now = Date.now()): CachedJpeg | undefined {
    const hit = this.#entries.get(key);
    if (!hit) return undefined;
    if (now - hit.at > maxAgeMs) return undefined;
    return hit;
  }

  /** Stores a snapshot made now. */
  set(key: string, jpeg: Uint8Array, now = Date.now()): void {
    this.#entries.delete(key);
    this.#entries.set(key, { jpeg, at: now });
    while (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }

  /** Entries held. */
  get size(): number {
    return this.#entries.size;
  }
}
