/**
 * An HTTP response body that media is written into: a byte-bounded `ReadableStream` whose writer
 * learns about a slow client (a promise to wait on) and about a client that went away (`onCancel`).
 *
 * @module
 */
import type { ChunkSink } from "./chunk_sink.ts";

/** Options of an {@link HttpBody}. */
export interface HttpBodyOptions {
  /**
   * Bytes queued in the body before `write` asks the writer to wait. The queue can exceed it by one
   * write; beyond that the writer's frame queue drops. Default 1 MiB.
   */
  highWaterMark?: number;
  /** Called once when the client cancels the body (disconnect, aborted fetch). */
  onCancel?: (reason: unknown) => void;
}

/**
 * A streaming response body with backpressure.
 *
 * @example
 * ```ts
 * const body = new HttpBody({ onCancel: () => session.close() });
 * const response = new Response(body.readable, { headers: { "Content-Type": "video/mp4" } });
 * await body.write(bytes); // waits while the client is slow
 * body.close();
 * ```
 */
export class HttpBody implements ChunkSink {
  /** Pass this to `new Response(...)`. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Bytes written so far. */
  bytes = 0;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #closed = false;
  #waiters: (() => void)[] = [];
  #onCancel: ((reason: unknown) => void) | undefined;

  constructor(options: HttpBodyOptions = {}) {
    this.#onCancel = options.onCancel;
    this.readable = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller;
        },
        pull: () => this.#wake(),
        cancel: (reason) => {
          if (this.#closed) return;
          this.#closed = true;
          this.#wake();
          const fn = this.#onCancel;
          this.#onCancel = undefined;
          fn?.(reason);
        },
      },
      { highWaterMark: options.highWaterMark ?? 1024 * 1024, size: (chunk) => chunk.byteLength },
    );
  }

  /** Whether the body ended (closed by us or cancelled by the client). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Sets the cancel callback (replaces the one given to the constructor). */
  set onCancel(fn: ((reason: unknown) => void) | undefined) {
    this.#onCancel = fn;
  }

  /**
   * Queues bytes for the client. Returns a promise when the queue is above the high-water mark,
   * resolved once the client read enough (or the body ended). Writes after the end are ignored.
   */
  write(chunk: Uint8Array): void | Promise<void> {
    if (this.#closed || chunk.byteLength === 0) return;
    try {
      this.#controller.enqueue(chunk);
    } catch {
      this.#closed = true; // the stream was torn down under us
      return;
    }
    this.bytes += chunk.byteLength;
    if ((this.#controller.desiredSize ?? 0) > 0) return;
    return new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  /** Ends the body after the queued bytes. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#onCancel = undefined;
    try {
      this.#controller.close();
    } catch { /* already errored or cancelled */ }
    this.#wake();
  }

  /** Aborts the body (the client sees a broken transfer). Idempotent. */
  error(reason: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#onCancel = undefined;
    try {
      this.#controller.error(reason);
    } catch { /* already closed */ }
    this.#wake();
  }

  #wake(): void {
    if (this.#waiters.length === 0) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve();
  }
}
