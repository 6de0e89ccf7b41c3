/**
 * Pushing a stream to another server, as go2rtc's `publish:`: RTMP/RTMPS (YouTube, Twitch,
 * nginx-rtmp, another strom) through the RTMP client, RTSP/RTSPS (ANNOUNCE/RECORD) through
 * {@link RtspPusher}. Unlike go2rtc (fixed 5 s), a failed or dropped publish is retried with a
 * growing delay until stopped; while it is down, the stream's `/api/streams` entry lists it with
 * its state and last error.
 *
 * ```text
 * connecting -> publishing -> (server hangs up, source gone...) -> waiting (1 s, 2 s, 5 s ... 30 s) -> connecting ...
 * ```
 *
 * @module
 */
import { abortableSleep } from "../../core/abortable_sleep.ts";
import { type ConnectionInfo, type Consumer, nextConnectionId } from "../../core/connection.ts";
import { redactStreamKey } from "../../core/redact.ts";
import { type Logger, silentLogger } from "../../core/log.ts";
import type { Stream } from "../../core/stream.ts";
import { schemeOf } from "../../core/registry.ts";
import { RtmpPublish } from "../rtmp/publish.ts";
import { RtspPusher } from "./rtsp_pusher.ts";

/** Destination schemes strom publishes to. */
export const PUBLISH_SCHEMES: readonly string[] = Object.freeze(["rtmp", "rtmps", "rtsp", "rtsps"]);

/** Default delays between attempts after a failure, ms (the last repeats). */
export const DEFAULT_PUBLISH_RETRY_MS: readonly number[] = Object.freeze([1000, 2000, 5000, 10000, 30000]);

// A publish that lasted this long starts its next retries from the shortest delay again.
const STABLE_MS = 30_000;

/**
 * A destination strom cannot publish to.
 *
 * @example
 * ```ts
 * try { checkPublishUrl("file:///tmp/x.flv"); } catch (e) { if (e instanceof PublishUrlError) console.log(e.url); }
 * ```
 */
export class PublishUrlError extends Error {
  override name = "PublishUrlError";
  /** The refused destination (redacted). */
  readonly url: string;
  constructor(url: string, reason: string) {
    super(`Cannot publish to "${redactStreamKey(url)}": ${reason}`);
    this.url = redactStreamKey(url);
  }
}

/**
 * Checks a destination: an `rtmp://`, `rtmps://`, `rtsp://` or `rtsps://` URL with a host and no
 * whitespace.
 *
 * @throws {PublishUrlError} otherwise.
 * @example
 * ```ts
 * checkPublishUrl("rtmp://a.rtmp.youtube.com/live2/KEY"); // ok
 * checkPublishUrl("exec:ffmpeg ...");                      // throws: only network destinations
 * ```
 */
export function checkPublishUrl(url: string): void {
  const scheme = schemeOf(url);
  if (!PUBLISH_SCHEMES.includes(scheme)) {
    throw new PublishUrlError(
      url,
      `only network destinations are supported (${PUBLISH_SCHEMES.map((s) => s + "://").join(", ")})`,
    );
  }
  if (/\s/.test(url)) throw new PublishUrlError(url, "the URL contains whitespace");
  let host = "";
  try {
    host = new URL(url.replace(/^[a-z]+:/i, "http:")).hostname;
  } catch {
    // reported below
  }
  if (!host) throw new PublishUrlError(url, `it is not a URL with a host, e.g. ${scheme}://host/path`);
}

/** What a publisher is doing. */
export type PublishState = "connecting" | "publishing" | "waiting" | "stopped";

/** Options of {@link StreamPublisher}. */
export interface StreamPublisherOptions {
  log?: Logger;
  /** Delays between attempts after a failure (the last repeats). Default {@link DEFAULT_PUBLISH_RETRY_MS}. */
  retryDelaysMs?: readonly number[];
  /** Connect/answer timeout per attempt. Default 10 s. */
  timeoutMs?: number;
  /** Where it came from, shown in `/api/streams`: `config` or `api`. */
  origin?: string;
}

/** `/api/streams` entry of a publish destination. */
export interface PublishInfo extends ConnectionInfo {
  /** What it is doing now. */
  state: PublishState;
  /** Why the last attempt failed or ended. */
  error?: string;
  /** Attempts so far. */
  attempts: number;
  /** When `waiting`: the time of the next attempt. */
  retryAt?: string;
  /** `config` or `api`. */
  origin?: string;
}

// What one attempt is running: the sink to stop.
interface Sink {
  consumer: Consumer;
  stop(): Promise<void>;
  /** Settles when publishing ended: resolves after stop(), rejects with why otherwise. */
  done: Promise<void>;
}

/**
 * One stream pushed to one destination, retried with backoff until {@link stop}.
 *
 * @example
 * ```ts
 * const pub = new StreamPublisher(() => hub.get("cam"), "cam", "rtmp://127.0.0.1/live/cam");
 * pub.start();
 * pub.info().state; // "connecting", then "publishing"
 * await pub.stop();
 * ```
 */
export class StreamPublisher {
  readonly id = nextConnectionId();
  /** The stream's name. */
  readonly streamName: string;
  /** The destination (with its secrets: use {@link info} to show it). */
  readonly url: string;
  state: PublishState = "connecting";
  /** Why the last attempt failed or ended. */
  error: string | undefined;
  attempts = 0;
  readonly #resolve: () => Stream | undefined;
  readonly #options: StreamPublisherOptions;
  readonly #log: Logger;
  readonly #abort = new AbortController();
  readonly #startedAt = new Date().toISOString();
  #sink: Sink | undefined;
  #stream: Stream | undefined;
  #retryAt: number | undefined;
  #loop: Promise<void> | undefined;
  #firstAttempt: { resolve: () => void; reject: (e: unknown) => void } | undefined;

  /**
   * @param resolve the stream to publish, looked up on each attempt (it may be replaced or come later).
   * @throws {PublishUrlError} for a destination strom cannot publish to.
   */
  constructor(
    resolve: () => Stream | undefined,
    streamName: string,
    url: string,
    options: StreamPublisherOptions = {},
  ) {
    checkPublishUrl(url);
    this.#resolve = resolve;
    this.streamName = streamName;
    this.url = url;
    this.#options = options;
    this.#log = (options.log ?? silentLogger).child({ publish: redactStreamKey(url), stream: streamName });
  }

  /**
   * Starts publishing in the background. The promise settles with the first attempt: resolves
   * once publishing, rejects with why the first attempt failed (retries go on regardless, until
   * {@link stop}).
   */
  start(): Promise<void> {
    if (this.#loop) return Promise.resolve();
    const first = new Promise<void>((resolve, reject) => (this.#firstAttempt = { resolve, reject }));
    first.catch(() => {});
    this.#loop = this.#run();
    return first;
  }

  /** Whether {@link stop} was called. */
  get stopped(): boolean {
    return this.#abort.signal.aborted;
  }

  /** Stops publishing and retrying. Idempotent; resolves when the connection is closed. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#sink?.stop().catch(() => {});
    await this.#loop;
  }

  /** The `/api/streams` entry (secrets redacted). */
  info(): PublishInfo {
    const base: ConnectionInfo = this.state === "publishing" && this.#sink
      ? this.#innerInfo(this.#sink.consumer)
      : { id: this.id, format: "publish", url: redactStreamKey(this.url), startedAt: this.#startedAt };
    return {
      ...base,
      id: this.id,
      url: redactStreamKey(this.url),
      state: this.state,
      ...(this.error ? { error: this.error } : {}),
      attempts: this.attempts,
      ...(this.state === "waiting" && this.#retryAt
        ? { retryAt: new Date(this.#retryAt).toISOString() }
        : {}),
      ...(this.#options.origin ? { origin: this.#options.origin } : {}),
    };
  }

  // The sink's own info, without the override below (it shows this publisher's info instead).
  #innerInfo(consumer: Consumer): ConnectionInfo {
    return Object.getPrototypeOf(consumer).info.call(consumer);
  }

  #setState(state: PublishState): void {
    this.state = state;
    // Down or connecting: listed with the stream's consumers by the stream itself; publishing: the
    // sink is a consumer of the stream and shows this publisher's info (see #attempt).
    const stream = this.#stream;
    if (!stream) return;
    if (state === "connecting" || state === "waiting") stream.detached.add(this);
    else stream.detached.delete(this);
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    const delays = this.#options.retryDelaysMs?.length
      ? this.#options.retryDelaysMs
      : DEFAULT_PUBLISH_RETRY_MS;
    let failures = 0;
    while (!signal.aborted) {
      this.attempts++;
      let publishedAt = 0;
      try {
        await this.#attempt(() => (publishedAt = Date.now()));
        if (signal.aborted) break;
        throw new Error("the destination closed the connection");
      } catch (error) {
        if (signal.aborted) break;
        const stream = this.#stream;
        const refusal = stream?.disabledError();
        if (stream && refusal) {
          // Privacy mode ended the publish, or refused it: no destination failed; wait until the
          // stream is enabled, then go on.
          this.error = refusal.message;
          this.#firstAttempt?.reject(refusal);
          this.#firstAttempt = undefined;
          this.#setState("waiting");
          this.#log.info("publish paused: the stream is disabled");
          await stream.whenEnabled(signal);
          continue;
        }
        this.error = redactStreamKey((error as Error)?.message ?? String(error));
        if (this.#firstAttempt) {
          this.#firstAttempt.reject(error);
          this.#firstAttempt = undefined;
        }
      }
      if (publishedAt && Date.now() - publishedAt > STABLE_MS) failures = 0;
      const delay = delays[Math.min(failures, delays.length - 1)];
      failures++;
      this.#retryAt = Date.now() + delay;
      this.#setState("waiting");
      this.#log.warn("publish failed; retrying", {
        error: this.error,
        delay_ms: delay,
        attempt: this.attempts,
      });
      await abortableSleep(delay, signal);
    }
    this.#setState("stopped");
    this.#stream?.detached.delete(this);
    this.#firstAttempt?.resolve();
    this.#firstAttempt = undefined;
  }

  /** One connection: resolves when it ended after stop(), rejects with why it failed or ended. */
  async #attempt(onPublishing: () => void): Promise<void> {
    const stream = this.#resolve();
    if (stream !== this.#stream) {
      this.#stream?.detached.delete(this);
      this.#stream = stream;
    }
    this.#setState("connecting");
    if (!stream) throw new Error(`stream "${this.streamName}" does not exist`);
    const sink = await this.#connect(stream);
    this.#sink = sink;
    if (this.#abort.signal.aborted) await sink.stop();
    // While publishing, the sink (a consumer of the stream) shows this publisher's state.
    sink.consumer.info = () => this.info();
    this.error = undefined;
    onPublishing();
    this.#setState("publishing");
    this.#firstAttempt?.resolve();
    this.#firstAttempt = undefined;
    this.#log.info("publishing");
    try {
      await sink.done;
    } finally {
      this.#sink = undefined;
    }
  }

  async #connect(stream: Stream): Promise<Sink> {
    const scheme = schemeOf(this.url);
    const timeoutMs = this.#options.timeoutMs ?? 10_000;
    if (scheme === "rtmp" || scheme === "rtmps") {
      const pub = await RtmpPublish.start(stream, this.url, {
        signal: this.#abort.signal,
        log: this.#log,
        timeoutMs,
      });
      return { consumer: pub.consumer, stop: () => pub.stop(), done: pub.done };
    }
    const pusher = new RtspPusher(this.url, { log: this.#log, timeoutMs, userAgent: "strom publish" });
    await stream.addConsumer(pusher);
    try {
      await pusher.connect();
    } catch (error) {
      await stream.removeConsumer(pusher).catch(() => {});
      throw error;
    }
    const done = pusher.closed.then(async (error) => {
      await stream.removeConsumer(pusher).catch(() => {});
      if (error && !this.#abort.signal.aborted) throw error;
    });
    done.catch(() => {});
    return {
      consumer: pusher,
      stop: async () => {
        await stream.removeConsumer(pusher).catch(() => {});
        await pusher.stop();
      },
      done,
    };
  }
}
