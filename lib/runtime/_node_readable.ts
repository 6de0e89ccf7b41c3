/**
 * A Web ReadableStream over a node:stream Readable (socket, child stdout), private to lib/runtime.
 *
 * Why not `Readable.toWeb()`: its chunks are Buffers, its queue counts chunks rather than bytes, and
 * its error and cancel behaviour differs between Node, Deno and Bun. This adapter:
 * - hands out plain `Uint8Array` views over the Buffer's memory (no copy);
 * - queues up to `highWaterMark` bytes, then pauses the source so the kernel buffer fills and TCP
 *   flow control pushes back on the peer; `pull()` resumes it;
 * - ends on 'end', errors on 'error' (mapped by the caller), and ends on a bare 'close' (destroyed
 *   locally without an error), each exactly once.
 *
 * @module
 */
import type { Readable } from "node:stream";

/** Bytes queued in the Web stream before the source is paused. */
export const DEFAULT_READ_HIGH_WATER_MARK = 256 * 1024;

/** The stream plus the handles its owner uses to end it early. */
export class NodeReadableAdapter {
  readonly stream: ReadableStream<Uint8Array>;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #done = false;

  constructor(
    source: Readable,
    mapError: (error: unknown) => unknown,
    onCancel: (reason: unknown) => void,
    highWaterMark = DEFAULT_READ_HIGH_WATER_MARK,
  ) {
    const onData = (buf: Uint8Array) => {
      if (this.#done) return;
      this.#controller.enqueue(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
      if ((this.#controller.desiredSize ?? 0) <= 0) source.pause();
    };
    this.stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller;
          source.on("data", onData);
          source.on("end", () => this.close());
          source.on("error", (error) => this.error(mapError(error)));
          source.on("close", () => this.close());
        },
        pull: () => {
          if (!this.#done && source.isPaused()) source.resume();
        },
        cancel: (reason) => {
          this.#done = true;
          source.off("data", onData);
          onCancel(reason);
        },
      },
      { highWaterMark, size: (chunk) => chunk.byteLength },
    );
  }

  /** True once the stream ended, errored or was cancelled. */
  get done(): boolean {
    return this.#done;
  }

  /** Ends the stream normally (readers see `done`). No-op when already finished. */
  close(): void {
    if (this.#done) return;
    this.#done = true;
    try {
      this.#controller.close();
    } catch { /* already closed by a cancel */ }
  }

  /** Errors the stream (readers reject with `error`). No-op when already finished. */
  error(error: unknown): void {
    if (this.#done) return;
    this.#done = true;
    // Unread stream errors do not surface as unhandled rejections: the spec marks them handled.
    this.#controller.error(error);
  }
}
