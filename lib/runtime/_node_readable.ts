/**
 * A Web ReadableStream over a node:stream Readable (socket, child stdout), private to lib/runtime.
 *
 * Why not `Readable.toWeb()`: its chunks are Buffers, its queue counts chunks rather than bytes, and
 * its error and cancel behaviour differs between Node, Deno and Bun. This adapter hands out plain
 * `Uint8Array` views over the Buffer's memory (no copy) to a {@link ChunkReader} (queueing, pausing,
 * the synchronous sink), and ends it on 'end', errors it on 'error' (mapped by the caller), and ends
 * it on a bare 'close' (destroyed locally without an error), each exactly once.
 *
 * @module
 */
import type { Readable } from "node:stream";
import { ChunkReader } from "./_chunk_reader.ts";

/** A {@link ChunkReader} fed by a node:stream Readable's events. */
export class NodeReadableAdapter extends ChunkReader {
  constructor(
    source: Readable,
    mapError: (error: unknown) => unknown,
    onCancel: (reason: unknown) => void,
    highWaterMark?: number,
  ) {
    super(source, onCancel, highWaterMark);
    source.on("data", (buf: Uint8Array) => this.push(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)));
    source.on("end", () => this.close());
    source.on("error", (error) => this.error(mapError(error)));
    source.on("close", () => this.close());
  }
}
