/**
 * The set of named streams a server or an embedding app works with.
 *
 * @module
 */
import { StreamEvents } from "./events.ts";
import { type Logger, silentLogger } from "./log.ts";
import { schemeOf } from "./registry.ts";
import { Stream, type StreamOptions } from "./stream.ts";

/** Options of a hub; passed on to every stream it creates. */
export type StreamHubOptions = StreamOptions;

/**
 * Named streams.
 *
 * @example
 * ```ts
 * const hub = new StreamHub({ graceMs: 5000 });
 * hub.set("door", ["rtsp://admin:pw@10.0.0.5/stream1"]);
 * await hub.get("door")!.addConsumer(viewer);
 * ```
 */
export class StreamHub {
  readonly #streams = new Map<string, Stream>();
  // Private streams: found by name (get), never listed (names, streams) nor closed with the hub.
  readonly #hidden = new Map<string, Stream>();
  /** Unlisted streams the hub made itself ({@link derived}), closed with it. */
  readonly #derived = new Map<string, Stream>();
  readonly #options: StreamHubOptions;
  readonly log: Logger;
  /**
   * Events of every listed stream (ready, readers, publishers, source errors) and of whatever
   * records them (`segment_complete`); see events.ts.
   */
  readonly events: StreamEvents;

  constructor(options: StreamHubOptions = {}) {
    this.events = options.events ?? new StreamEvents();
    this.#options = { ...options, events: this.events };
    this.log = options.log ?? silentLogger;
  }

  /** The stream of that name. */
  get(name: string): Stream | undefined {
    return this.#streams.get(name) ?? this.#hidden.get(name);
  }

  /**
   * Makes a stream reachable by name through {@link get} (so a protocol server can publish into
   * it) without listing it in {@link names}/{@link streams}: a private target such as the random
   * RTSP path an `exec:` command publishes to. A listed stream of the same name wins. Returns a
   * function that removes it again; its owner closes it.
   *
   * @example
   * ```ts
   * const remove = hub.addHidden(new Stream("e3b0c442..."));
   * // ffmpeg -f rtsp rtsp://127.0.0.1:8554/e3b0c442...
   * remove();
   * ```
   */
  addHidden(stream: Stream): () => void {
    this.#hidden.set(stream.name, stream);
    return () => {
      if (this.#hidden.get(stream.name) === stream) this.#hidden.delete(stream.name);
    };
  }

  /**
   * An unlisted stream the server makes from `sources` (an HLS variant: a scaled copy of a listed
   * stream), created on the first call with the hub's options and returned as it is on later ones.
   * Reachable through {@link get} like {@link addHidden}'s, never listed, closed with the hub.
   *
   * @example
   * ```ts
   * const low = hub.derived("cam~480p", ["ffmpeg:cam#video=h264#width=-2#height=480"]);
   * ```
   */
  derived(name: string, sources: string[]): Stream {
    let stream = this.#derived.get(name);
    if (!stream) {
      stream = new Stream(name, sources, this.#options);
      this.#derived.set(name, stream);
      this.#hidden.set(name, stream);
    }
    return stream;
  }

  /**
   * Creates a stream, or replaces the sources of an existing one: sources still listed keep running
   * with their viewers; viewers of removed sources move to a new source with their codec or are
   * closed (see {@link Stream.sources}).
   */
  set(name: string, sources: string[]): Stream {
    const existing = this.#streams.get(name);
    if (existing) {
      existing.sources = sources;
      return existing;
    }
    const stream = new Stream(name, sources, this.#options);
    this.#streams.set(name, stream);
    return stream;
  }

  /** Deletes a stream and stops its sources and viewers. */
  delete(name: string): boolean {
    const stream = this.#streams.get(name);
    if (!stream) return false;
    this.#streams.delete(name);
    stream.close().catch(() => {});
    return true;
  }

  /** Stream names in insertion order. */
  names(): string[] {
    return [...this.#streams.keys()];
  }

  /** All streams. */
  streams(): Stream[] {
    return [...this.#streams.values()];
  }

  /**
   * A stream by name or, when `allowUrls` is set and `src` is a source URL, a stream for that URL
   * (created once and kept under the URL as its name, as go2rtc does for `?src=rtsp://...`).
   */
  resolve(src: string, options: { allowUrls?: boolean } = {}): Stream | undefined {
    const stream = this.#streams.get(src);
    if (stream) return stream;
    if (options.allowUrls && schemeOf(src)) return this.set(src, [src]);
    return undefined;
  }

  /** Closes every stream. */
  async close(): Promise<void> {
    const streams = [...this.#streams.values(), ...this.#derived.values()];
    this.#streams.clear();
    for (const name of this.#derived.keys()) this.#hidden.delete(name);
    this.#derived.clear();
    await Promise.allSettled(streams.map((s) => s.close()));
  }
}
