/**
 * An RTMP server's stream as a strom source: `rtmp://`, `rtmps://` (TLS) and `rtmpx://` (TLS
 * without certificate checks) URLs, as go2rtc. Dialing connects, plays, and waits until the
 * stream's tracks are known (sequence headers; at most `trackWaitMs` for a track the metadata
 * announced but that never comes).
 *
 * @module
 */
import type { Codec } from "../../core/codec.ts";
import { type ConnectionInfo, nextConnectionId, type Producer, type SourceContext } from "../../core/connection.ts";
import { redactUrl, SourceError } from "../../core/errors.ts";
import type { Receiver } from "../../core/fanout.ts";
import { type Logger, silentLogger } from "../../core/log.ts";
import { type Media, mediaToString } from "../../core/media.ts";
import { registerSource } from "../../core/registry.ts";
import { RtmpClient } from "./client.ts";
import { FlvIngest } from "./flv_ingest.ts";

/** Options of {@link RtmpClientProducer.dial}. */
export interface RtmpProducerOptions {
  signal?: AbortSignal;
  log?: Logger;
  /** Connect/answer timeout. Default 10 s. */
  timeoutMs?: number;
  /** How long to wait for a track the metadata announced once another one is complete. Default 3 s. */
  trackWaitMs?: number;
}

/**
 * Producer over an {@link RtmpClient} playing a stream.
 *
 * @example
 * ```ts
 * const producer = await RtmpClientProducer.dial("rtmp://10.0.0.7/live/cam");
 * const video = producer.medias().find((m) => m.kind === "video")!;
 * const receiver = producer.track(video, video.codecs[0]);
 * producer.start().catch(console.error);
 * ```
 */
export class RtmpClientProducer implements Producer {
  readonly id = nextConnectionId();
  readonly url: string;
  readonly #client: RtmpClient;
  readonly #ingest: FlvIngest;
  readonly #startedAt = new Date().toISOString();
  readonly #ended: Promise<void>;

  private constructor(url: string, client: RtmpClient, ingest: FlvIngest, ended: Promise<void>) {
    this.url = url;
    this.#client = client;
    this.#ingest = ingest;
    this.#ended = ended;
  }

  /**
   * Connects, plays, and returns once the tracks are known.
   *
   * @throws {SourceError} when the stream has no H.264/H.265/AAC/G.711 track in time.
   * @throws {RtmpError} refused or malformed; a `NetError` when unreachable.
   */
  static async dial(url: string, options: RtmpProducerOptions = {}): Promise<RtmpClientProducer> {
    const log = options.log ?? silentLogger;
    const timeoutMs = options.timeoutMs ?? 10_000;
    const trackWaitMs = options.trackWaitMs ?? 3000;
    const client = await RtmpClient.connect(url, { signal: options.signal, timeoutMs, log });
    const ingest = new FlvIngest();
    let firstTrackAt = 0;
    let endError: unknown;
    let ended = false;
    let resolveEnded!: () => void;
    let rejectEnded!: (e: unknown) => void;
    const endedPromise = new Promise<void>((res, rej) => {
      resolveEnded = res;
      rejectEnded = rej;
    });
    endedPromise.catch(() => {}); // observed by start()
    let wake: (() => void) | undefined;
    client.onMedia = (msg) => {
      ingest.push(msg.type, msg.timestamp, msg.payload);
      if (!ingest.ready && ingest.hasTrack) {
        firstTrackAt ||= Date.now();
        if (Date.now() - firstTrackAt > trackWaitMs) ingest.finish();
      }
      if (ingest.ready && wake) wake();
    };
    client.onClose = (error) => {
      ended = true;
      endError = error;
      if (error) rejectEnded(error);
      else resolveEnded();
      wake?.();
    };
    try {
      await client.play();
      const deadline = Date.now() + timeoutMs;
      while (!ingest.ready && !ended) {
        if (options.signal?.aborted) throw options.signal.reason;
        if (ingest.hasTrack && firstTrackAt && Date.now() - firstTrackAt > trackWaitMs) {
          ingest.finish();
          break;
        }
        if (Date.now() > deadline) {
          throw new SourceError(
            url,
            `no H.264, H.265, AAC or G.711 track within ${timeoutMs} ms of playing (${ingest.demuxer.tags} messages, ${ingest.demuxer.errors} not usable)`,
          );
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 100);
        });
        wake = undefined;
      }
      if (ended && !ingest.ready) {
        throw endError ?? new SourceError(url, "the RTMP server ended the stream before sending its tracks");
      }
      if (!ingest.medias.length) throw new SourceError(url, "the RTMP stream has no track strom can use");
    } catch (error) {
      client.close();
      throw error;
    }
    log.debug("rtmp source playing", { url: redactUrl(url), medias: ingest.medias.map(mediaToString) });
    return new RtmpClientProducer(url, client, ingest, endedPromise);
  }

  medias(): Media[] {
    return this.#ingest.medias;
  }

  track(media: Media, codec: Codec): Receiver {
    return this.#ingest.receiver(media, codec);
  }

  /** Runs until the server ends the stream (resolves) or the connection fails (rejects). */
  start(): Promise<void> {
    return this.#ended;
  }

  stop(): Promise<void> {
    this.#client.close();
    return Promise.resolve();
  }

  info(): ConnectionInfo {
    return {
      id: this.id,
      format: "rtmp",
      protocol: this.#client.url.tls ? "rtmps" : "rtmp",
      remoteAddr: `${this.#client.url.hostname}:${this.#client.url.port}`,
      url: redactUrl(this.url),
      medias: this.medias().map(mediaToString),
      bytesIn: this.#client.rtmp.bytesIn,
      startedAt: this.#startedAt,
    };
  }
}

/**
 * Registers `rtmp`, `rtmps` and `rtmpx` as source schemes.
 *
 * @example
 * ```ts
 * registerRtmpSources();
 * hub.set("obs", ["rtmp://10.0.0.7/live/cam"]);
 * ```
 */
export function registerRtmpSources(options: { log?: Logger } = {}): void {
  const factory = (url: string, ctx: SourceContext) =>
    RtmpClientProducer.dial(url, { signal: ctx.signal, log: options.log });
  registerSource("rtmp", factory);
  registerSource("rtmps", factory);
  registerSource("rtmpx", factory);
}
