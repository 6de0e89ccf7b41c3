/**
 * strom as an RTMP publisher: pushes a stream to an RTMP server (YouTube, Twitch, nginx-rtmp,
 * another strom) as go2rtc's `publish:`. This is the sink side of the RTMP client; restarting after
 * a failure is the caller's policy.
 *
 * @module
 */
import { redactStreamKey } from "../../core/redact.ts";
import { type Logger, silentLogger } from "../../core/log.ts";
import type { Stream } from "../../core/stream.ts";
import { outputMedias } from "../http/output_medias.ts";
import { OutputSession } from "../http/output_session.ts";
import { RtmpClient } from "./client.ts";
import { RTMP_CODECS, RtmpConsumer } from "./consumer.ts";

/** Options of {@link RtmpPublish.start}. */
export interface RtmpPublishOptions {
  signal?: AbortSignal;
  log?: Logger;
  /** Media filters as on outputs (`video=h264&audio=aac`). Default: everything RTMP carries. */
  query?: URLSearchParams;
  /** Connect/answer timeout. Default 10 s. */
  timeoutMs?: number;
}

/**
 * One stream published to one RTMP URL.
 *
 * @example
 * ```ts
 * const pub = await RtmpPublish.start(hub.get("cam")!, "rtmp://a.rtmp.youtube.com/live2/KEY");
 * await pub.done; // until the server hangs up or pub.stop()
 * ```
 */
export class RtmpPublish {
  readonly url: string;
  readonly consumer: RtmpConsumer;
  /** Settles when publishing ended: resolves on stop(), rejects with why otherwise. */
  readonly done: Promise<void>;
  readonly #client: RtmpClient;
  readonly #session: OutputSession;

  private constructor(url: string, client: RtmpClient, consumer: RtmpConsumer, session: OutputSession, done: Promise<void>) {
    this.url = url;
    this.#client = client;
    this.consumer = consumer;
    this.#session = session;
    this.done = done;
  }

  /**
   * Connects, publishes, and attaches to the stream.
   *
   * @throws {RtmpError} refused (wrong key...), a `NetError` when unreachable, or the stream's
   *   `CodecMismatchError` / `SourceError`.
   */
  static async start(stream: Stream, url: string, options: RtmpPublishOptions = {}): Promise<RtmpPublish> {
    const log = (options.log ?? silentLogger).child({ publish: redactStreamKey(url) });
    const client = await RtmpClient.connect(url, { signal: options.signal, timeoutMs: options.timeoutMs, log });
    let settle!: { resolve: () => void; reject: (e: unknown) => void };
    const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    done.catch(() => {});
    let stopped = false;
    try {
      await client.publish();
    } catch (error) {
      client.close();
      throw error;
    }
    const consumer = new RtmpConsumer(outputMedias(options.query ?? new URLSearchParams(), RTMP_CODECS), client.rtmp, {
      streamId: client.streamId,
      publish: true,
      peer: { remoteAddr: `${client.url.hostname}:${client.url.port}` },
    });
    consumer.useGopCache = true;
    const session = new OutputSession(stream, consumer, {
      log,
      onClose: (reason) => {
        client.close();
        if (stopped) settle.resolve();
        else settle.reject(new Error(`Publishing ${stream.name} to ${redactStreamKey(url)} ended: ${reason}`));
      },
    });
    client.onClose = (error) => {
      void session.close(error ? `connection failed: ${(error as Error).message ?? error}` : "server closed the connection");
    };
    const publish = new RtmpPublish(url, client, consumer, session, done);
    const onAbort = () => void publish.stop();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    done.finally(() => options.signal?.removeEventListener("abort", onAbort)).catch(() => {});
    publish.#markStopped = () => (stopped = true);
    await session.open();
    log.info("rtmp publishing", { stream: stream.name });
    return publish;
  }

  #markStopped: () => void = () => {};

  /** Bytes sent. */
  get bytesOut(): number {
    return this.#client.rtmp.bytesOut;
  }

  /** Stops publishing and closes the connection. */
  async stop(): Promise<void> {
    this.#markStopped();
    await this.#session.close("stopped");
  }
}
