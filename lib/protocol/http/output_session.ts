/**
 * The life of one output viewer: attach to the stream, start, and tear down exactly once whatever
 * ends it first — the client going away (body cancelled, request aborted, socket closed), a muxer
 * or write failure, `duration=` running out, or the stream being deleted.
 *
 * @module
 */
import { type Logger, silentLogger } from "../../core/log.ts";
import type { Stream } from "../../core/stream.ts";
import type { OutputConsumer } from "./output_consumer.ts";

/** Options of an {@link OutputSession}. */
export interface OutputSessionOptions {
  /** The request's abort signal: closes the session when the client disconnects. */
  signal?: AbortSignal;
  /** Ends the session after this long (go2rtc's `duration=`). */
  durationMs?: number;
  /** Runs once after the consumer was removed: end the HTTP body, close the socket. */
  onClose?: (reason: string) => void;
  log?: Logger;
}

/**
 * One viewer attached to a stream.
 *
 * @example
 * ```ts
 * const body = new HttpBody();
 * const consumer = new TsConsumer(medias, body);
 * const session = new OutputSession(stream, consumer, { signal: req.signal, onClose: () => body.close() });
 * body.onCancel = () => session.close("client went away");
 * await session.open(); // throws CodecMismatchError / SourceError
 * return new Response(body.readable);
 * ```
 */
export class OutputSession {
  readonly stream: Stream;
  readonly consumer: OutputConsumer;
  /** Why the session ended, once it did. */
  reason: string | undefined;
  readonly #options: OutputSessionOptions;
  readonly #log: Logger;
  #attached = false;
  #closing: Promise<void> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #onAbort: (() => void) | undefined;

  constructor(stream: Stream, consumer: OutputConsumer, options: OutputSessionOptions = {}) {
    this.stream = stream;
    this.consumer = consumer;
    this.#options = options;
    this.#log = options.log ?? silentLogger;
    consumer.onError = (error) => {
      this.#log.debug("output failed", { format: consumer.info().format, error });
      void this.close(`output failed: ${(error as Error)?.message ?? error}`);
    };
    consumer.onStop = () => void this.close("consumer stopped");
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * Attaches the consumer and lets frames flow.
   *
   * @throws {CodecMismatchError} the stream has no codec this output carries.
   * @throws {SourceError} no source could be reached.
   */
  async open(): Promise<void> {
    const signal = this.#options.signal;
    if (signal?.aborted) {
      await this.close("request aborted");
      return;
    }
    if (signal) {
      this.#onAbort = () => void this.close("request aborted");
      signal.addEventListener("abort", this.#onAbort, { once: true });
    }
    try {
      await this.stream.addConsumer(this.consumer);
      this.#attached = true;
      if (this.closed) {
        // The client left while the source was dialing.
        await this.stream.removeConsumer(this.consumer);
        return;
      }
      this.consumer.start(this.stream.name);
    } catch (error) {
      this.consumer.onStop = undefined;
      await this.close("open failed");
      throw error;
    }
    const ms = this.#options.durationMs;
    if (ms !== undefined && ms > 0 && !this.closed) this.#timer = setTimeout(() => void this.close("duration reached"), ms);
  }

  /** Detaches the consumer, then runs `onClose`. Idempotent; resolves when done. */
  close(reason = "closed"): Promise<void> {
    this.#closing ??= (async () => {
      this.reason = reason;
      if (this.#timer !== undefined) clearTimeout(this.#timer);
      if (this.#onAbort) this.#options.signal?.removeEventListener("abort", this.#onAbort);
      this.consumer.onStop = undefined;
      try {
        if (this.#attached) await this.stream.removeConsumer(this.consumer);
        else this.consumer.stop();
      } catch (error) {
        this.#log.warn("removing an output consumer failed", { error });
      }
      this.#log.debug("output closed", { stream: this.stream.name, format: this.consumer.info().format, reason });
      try {
        this.#options.onClose?.(reason);
      } catch (error) {
        this.#log.warn("output close handler failed", { error });
      }
    })();
    return this.#closing;
  }
}
