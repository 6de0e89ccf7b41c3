/**
 * A client publishing into strom over RTMP (`ffmpeg -f flv rtmp://host/<stream>`, OBS with a
 * stream key) as a producer of an existing stream, as RTSP ANNOUNCE/RECORD publishers are.
 *
 * @module
 */
import type { Codec } from "../../core/codec.ts";
import { type ConnectionInfo, nextConnectionId, type Producer } from "../../core/connection.ts";
import type { Receiver } from "../../core/fanout.ts";
import { type Media, mediaToString } from "../../core/media.ts";
import type { FlvIngest } from "./flv_ingest.ts";

/** Options of {@link RtmpPublisher}. */
export interface RtmpPublisherOptions {
  /** The publisher's media, ready (medias known). */
  ingest: FlvIngest;
  url?: string;
  remoteAddr?: string;
  /** The client's `flashVer` from `connect` (e.g. "FMLE/3.0 (compatible; Lavf59.27.100)"). */
  userAgent?: string;
  /** Closes the publisher's connection (called by `stop()`). */
  close: () => void;
  /** Bytes received so far. */
  bytesIn: () => number;
}

/**
 * A publishing RTMP session as a producer.
 *
 * @example
 * ```ts
 * const publisher = new RtmpPublisher({ ingest, close: () => rtmp.close(), bytesIn: () => rtmp.bytesIn });
 * await stream.addPublisher(publisher);
 * // ...connection ends:
 * publisher.end();
 * stream.removePublisher(publisher);
 * ```
 */
export class RtmpPublisher implements Producer {
  readonly id = nextConnectionId();
  readonly #options: RtmpPublisherOptions;
  readonly #startedAt = new Date().toISOString();
  #ended = false;
  #endWaiters: (() => void)[] = [];

  constructor(options: RtmpPublisherOptions) {
    this.#options = options;
  }

  medias(): Media[] {
    return this.#options.ingest.medias;
  }

  track(media: Media, codec: Codec): Receiver {
    return this.#options.ingest.receiver(media, codec);
  }

  /** Resolves when the publisher disconnects. */
  start(): Promise<void> {
    if (this.#ended) return Promise.resolve();
    return new Promise((resolve) => this.#endWaiters.push(resolve));
  }

  /** Called by the session when the connection ended. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const w of this.#endWaiters.splice(0)) w();
  }

  /** Disconnects the publisher. */
  stop(): Promise<void> {
    this.#options.close();
    this.end();
    return Promise.resolve();
  }

  info(): ConnectionInfo {
    return {
      id: this.id,
      format: "rtmp",
      protocol: "rtmp",
      remoteAddr: this.#options.remoteAddr,
      url: this.#options.url,
      userAgent: this.#options.userAgent,
      medias: this.medias().map(mediaToString),
      bytesIn: this.#options.bytesIn(),
      startedAt: this.#startedAt,
    };
  }
}
