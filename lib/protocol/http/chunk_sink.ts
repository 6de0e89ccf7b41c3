/**
 * Where an output consumer writes its bytes: an HTTP body, a WebSocket, an HLS segment list.
 *
 * @module
 */

/**
 * A byte sink with backpressure by promise: `write` returns nothing while the sink has room and a
 * promise when the writer should wait (a slow client). Output consumers return that promise from
 * their frame handler, so the frame queue of the viewer fills and drops instead of memory growing.
 *
 * @example
 * ```ts
 * const sink: ChunkSink = { write: (chunk) => socket.write(chunk) ? undefined : socket.drained() };
 * ```
 */
export interface ChunkSink {
  write(chunk: Uint8Array): void | Promise<void>;
}
