/**
 * A Web ReadableStream (or a synchronous sink) fed by pushes from a socket or pipe, private to
 * lib/runtime: the part of {@link NodeReadableAdapter} that does not depend on `node:stream`, so
 * sockets that deliver chunks through callbacks (Bun's own TCP sockets) share it.
 *
 * - queues up to `highWaterMark` bytes, then pauses the source so the kernel buffer fills and TCP
 *   flow control pushes back on the peer; `pull()` resumes it;
 * - ends ({@link ChunkReader.close}) or errors ({@link ChunkReader.error}) exactly once;
 * - or, with {@link ChunkReader.setSink}, hands every chunk to a callback synchronously and never
 *   pauses the source (the caller consumes as it goes), for latency-critical parsers.
 * The owner picks one of the two with its first use: until then chunks (and the end) are held,
 * so nothing that arrives before the owner starts reading is lost.
 *
 * @module
 */

/** Bytes queued in the Web stream before the source is paused. */
export const DEFAULT_READ_HIGH_WATER_MARK = 256 * 1024;

/** What the reader needs from its source: flow control, and destroying it when a sink throws. */
export interface ReadSource {
  pause(): void;
  resume(): void;
  destroy(): void;
}

type Sink = { chunk: (c: Uint8Array) => void; end: (error?: unknown) => void };

/** The stream (or sink) plus the handles its owner uses to feed and end it. */
export class ChunkReader {
  readonly #source: ReadSource;
  readonly #onCancel: (reason: unknown) => void;
  readonly #highWaterMark: number;
  #stream: ReadableStream<Uint8Array> | undefined;
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  #sink: Sink | undefined;
  #paused = false;
  // Before the owner chose: chunks held, and how the source ended (if it did).
  #early: Uint8Array[] = [];
  #earlyBytes = 0;
  #ended: { error?: unknown } | undefined;
  #done = false;

  constructor(
    source: ReadSource,
    onCancel: (reason: unknown) => void,
    highWaterMark = DEFAULT_READ_HIGH_WATER_MARK,
  ) {
    this.#source = source;
    this.#onCancel = onCancel;
    this.#highWaterMark = highWaterMark;
  }

  /** One chunk from the source (kept, not copied). Ignored once the reader is done. */
  push(view: Uint8Array): void {
    if (this.#done) return;
    if (this.#sink) {
      this.#deliver(view);
    } else if (this.#controller) {
      this.#controller.enqueue(view);
      if ((this.#controller.desiredSize ?? 0) <= 0) this.#pause();
    } else {
      this.#early.push(view);
      this.#earlyBytes += view.byteLength;
      if (this.#earlyBytes >= this.#highWaterMark) this.#pause();
    }
  }

  #pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#source.pause();
  }

  #resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#source.resume();
  }

  #deliver(view: Uint8Array): void {
    try {
      this.#sink!.chunk(view);
    } catch (error) {
      // A throwing handler must not become an uncaught exception inside the socket's event.
      this.error(error);
      this.#source.destroy();
    }
  }

  /** The Web stream; the first access chooses stream mode. */
  get stream(): ReadableStream<Uint8Array> {
    if (this.#stream) return this.#stream;
    if (this.#sink) {
      // Read through the sink: nothing will ever come through the stream.
      this.#stream = new ReadableStream<Uint8Array>({ start: (controller) => controller.close() });
      return this.#stream;
    }
    this.#stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller;
          for (const chunk of this.#early) controller.enqueue(chunk);
          this.#early = [];
          const ended = this.#ended;
          if (ended) {
            if ("error" in ended) controller.error(ended.error);
            else controller.close();
          }
        },
        pull: () => {
          if (!this.#done) this.#resume();
        },
        cancel: (reason) => {
          this.#done = true;
          this.#onCancel(reason);
        },
      },
      { highWaterMark: this.#highWaterMark, size: (chunk) => chunk.byteLength },
    );
    return this.#stream;
  }

  /**
   * Synchronous delivery instead of the stream (see TcpConn.read): chunks held so far go to `chunk`
   * at once, then every new one as it arrives; `end` is called once.
   */
  setSink(chunk: (c: Uint8Array) => void, end: (error?: unknown) => void): void {
    if (this.#controller) throw new TypeError("The connection is already read through its readable stream");
    if (this.#sink) throw new TypeError("The connection already has a reader");
    this.#sink = { chunk, end };
    const early = this.#early;
    this.#early = [];
    for (const view of early) {
      if (this.#ended && "error" in this.#ended) break;
      this.#deliver(view);
    }
    if (this.#ended) {
      end(...("error" in this.#ended ? [this.#ended.error] : []));
    } else {
      this.#resume();
    }
  }

  /** True once the source ended, errored or was cancelled. */
  get done(): boolean {
    return this.#done;
  }

  /** Ends the stream normally (readers see `done`). No-op when already finished. */
  close(): void {
    if (this.#done) return;
    this.#done = true;
    this.#ended = {};
    if (this.#sink) {
      this.#sink.end();
    } else if (this.#controller) {
      try {
        this.#controller.close();
      } catch { /* already closed by a cancel */ }
    }
  }

  /** Errors the stream (readers reject with `error`). No-op when already finished. */
  error(error: unknown): void {
    if (this.#done) return;
    this.#done = true;
    this.#ended = { error };
    if (this.#sink) {
      this.#sink.end(error);
    } else if (this.#controller) {
      // Unread stream errors do not surface as unhandled rejections: the spec marks them handled.
      this.#controller.error(error);
    }
  }
}
