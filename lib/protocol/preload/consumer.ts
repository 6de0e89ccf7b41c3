/**
 * A consumer that only keeps a stream's sources running (go2rtc's `preload:`): the camera stays
 * connected, its GOP cache warm, so the first real viewer and every snapshot start at once.
 *
 * @module
 */
import type { Codec } from "../../core/codec.ts";
import { type ConnectionInfo, type Consumer, nextConnectionId } from "../../core/connection.ts";
import { type Media, parseMediaQuery } from "../../core/media.ts";
import { type Receiver, Sender } from "../../core/fanout.ts";

/**
 * Counts what it receives and nothing else.
 *
 * @example
 * ```ts
 * const keeper = new PreloadConsumer("video&audio");
 * await hub.get("door")!.addConsumer(keeper, { retry: { signal } });
 * ```
 */
export class PreloadConsumer implements Consumer {
  readonly id = nextConnectionId();
  readonly #medias: Media[];
  readonly #senders: Sender[] = [];
  readonly #startedAt = new Date().toISOString();
  bytes = 0;
  frames = 0;

  /** @param query go2rtc media query, e.g. `video=h264&audio=opus`; empty means `video&audio`. */
  constructor(query = "") {
    this.#medias = parseMediaQuery(new URLSearchParams(query));
  }

  medias(): Media[] {
    return this.#medias;
  }

  addTrack(media: Media, codec: Codec, receiver: Receiver): void {
    const sender = new Sender(media, codec, (frame) => {
      this.frames++;
      this.bytes += frame.data.length;
    });
    this.#senders.push(sender);
    receiver.addSender(sender, { fromCache: false });
  }

  stop(): void {
    for (const s of this.#senders.splice(0)) s.close();
  }

  info(): ConnectionInfo {
    return { id: this.id, format: "preload", bytesOut: this.bytes, startedAt: this.#startedAt };
  }
}
