/**
 * The stand-in a {@link SourceSlot} hands to new viewers while its source is down and it holds the
 * source's last state (`holdMs`, edge mode): the medias the source offered before it dropped, and
 * for a track nobody had set up yet a fresh receiver, which the reconnect moves onto the new
 * connection with the others. It never runs: frames come from the slot's existing receivers (their
 * cached GOP at once, live frames once the source is back).
 *
 * @module
 */
import type { Codec } from "./codec.ts";
import { type ConnectionInfo, nextConnectionId, type Producer } from "./connection.ts";
import { redactUrl } from "./errors.ts";
import { Receiver } from "./fanout.ts";
import type { Media } from "./media.ts";

/**
 * A producer that only describes a source that is down.
 *
 * @example
 * ```ts
 * const held = new HeldProducer("rtsp://origin:8554/cam", producer.medias());
 * held.medias(); // what the source offered before it dropped
 * ```
 */
export class HeldProducer implements Producer {
  readonly #url: string;
  readonly #medias: Media[];
  readonly #id = nextConnectionId();

  constructor(url: string, medias: Media[]) {
    this.#url = url;
    this.#medias = medias;
  }

  medias(): Media[] {
    return this.#medias;
  }

  track(media: Media, codec: Codec): Receiver {
    return new Receiver(media, codec);
  }

  start(): Promise<void> {
    return Promise.reject(new Error(`${redactUrl(this.#url)} is down; its last state is held until it reconnects`));
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }

  info(): ConnectionInfo {
    return { id: this.#id, format: "held", url: redactUrl(this.#url) };
  }
}
