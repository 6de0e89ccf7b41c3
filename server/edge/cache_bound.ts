/**
 * The bound of an edge's cache (`edge.cache.size`): streams kept pulled after their last viewer
 * (for `edge.cache.ttl`) hold their last GOP in memory; when those held bytes add up past the
 * bound, the stream that has been without viewers the longest stops first.
 *
 * @module
 */
import type { StreamHub } from "../../lib/core/hub.ts";
import type { Logger } from "../../lib/core/log.ts";
import type { Stream } from "../../lib/core/stream.ts";

/** What one sweep did. */
export interface CacheSweep {
  /** Bytes held by streams without viewers, before the sweep. */
  heldBytes: number;
  /** Streams stopped to get under the bound, idle the longest first. */
  stopped: string[];
}

/**
 * Tracks how long each stream has been without viewers and stops the longest-idle ones while the
 * bytes they hold exceed `maxBytes`.
 *
 * @example
 * ```ts
 * const bound = new CacheBound(hub, 1 << 30, log);
 * const timer = setInterval(() => bound.sweep(), 1000);
 * ```
 */
export class CacheBound {
  readonly #idleSince = new Map<Stream, number>();

  constructor(readonly hub: StreamHub, readonly maxBytes: number, readonly log?: Logger) {}

  /** Runs one check; `now` is for tests. */
  sweep(now = Date.now()): CacheSweep {
    const idle: { stream: Stream; since: number; bytes: number }[] = [];
    const seen = new Set<Stream>();
    for (const stream of this.hub.streams()) {
      seen.add(stream);
      const bytes = stream.consumers().length === 0 ? stream.cachedBytes() : 0;
      if (bytes === 0) {
        this.#idleSince.delete(stream);
        continue;
      }
      let since = this.#idleSince.get(stream);
      if (since === undefined) this.#idleSince.set(stream, since = now);
      idle.push({ stream, since, bytes });
    }
    for (const stream of this.#idleSince.keys()) if (!seen.has(stream)) this.#idleSince.delete(stream);
    let held = 0;
    for (const e of idle) held += e.bytes;
    const sweep: CacheSweep = { heldBytes: held, stopped: [] };
    if (this.maxBytes <= 0 || held <= this.maxBytes) return sweep;
    idle.sort((a, b) => a.since - b.since);
    let left = held;
    for (const e of idle) {
      if (left <= this.maxBytes) break;
      e.stream.stopUnused();
      this.#idleSince.delete(e.stream);
      left -= e.bytes;
      sweep.stopped.push(e.stream.name);
      this.log?.info("edge cache full: stopped the stream idle the longest", {
        stream: e.stream.name,
        idle_s: Math.round((now - e.since) / 1000),
        cached_bytes: e.bytes,
        held_bytes: held,
        max_bytes: this.maxBytes,
      });
    }
    return sweep;
  }
}
