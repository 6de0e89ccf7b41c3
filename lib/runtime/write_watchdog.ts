/**
 * Drops connections whose peer stopped taking bytes: a viewer that stopped reading (or vanished
 * without a FIN) keeps its socket's send buffer full; after `timeoutMs` without a byte handed to the
 * kernel while data waits, its socket is destroyed. One timer serves every watched socket, and runs
 * only while some are watched.
 *
 * @module
 */
/**
 * The part of a socket the watchdog reads: a `node:net` socket, or anything shaped like one (Bun's
 * own TCP connection, _bun_tcp.ts).
 */
export interface WatchedSocket {
  /** Bytes written, the queued ones included. */
  readonly bytesWritten: number;
  /** Bytes queued in user space, not yet handed to the kernel. */
  readonly writableLength: number;
  readonly destroyed: boolean;
  destroy(): void;
  once(event: "close", listener: () => void): unknown;
}

/** A queue above a socket (an HTTP response): its bytes wait for the socket too. */
export interface WatchedQueue {
  readonly writableLength: number;
}

interface Entry {
  /** Bytes handed to the kernel at the last check. */
  sent: number;
  /** When the data waiting stopped moving (0: it moves). */
  since: number;
  /** What is written to the socket now from above, if that queues on its own. */
  queue: WatchedQueue | undefined;
}

/**
 * Watches sockets for stalled writes.
 *
 * @example
 * ```ts
 * const watchdog = new WriteWatchdog(15_000, (socket) => log.info("viewer stalled"));
 * server.on("connection", (socket) => watchdog.watch(socket));
 * ```
 */
export class WriteWatchdog {
  readonly timeoutMs: number;
  readonly #sockets = new Map<WatchedSocket, Entry>();
  readonly #onStall: ((socket: WatchedSocket) => void) | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(timeoutMs: number, onStall?: (socket: WatchedSocket) => void) {
    this.timeoutMs = timeoutMs;
    this.#onStall = onStall;
  }

  /** Sockets watched now. */
  get size(): number {
    return this.#sockets.size;
  }

  /** Watches `socket` until it closes. */
  watch(socket: WatchedSocket): void {
    if (this.timeoutMs <= 0 || socket.destroyed) return;
    this.#sockets.set(socket, { sent: sentBytes(socket), since: 0, queue: undefined });
    socket.once("close", () => this.#forget(socket));
    this.#timer ??= setInterval(this.#check, Math.max(50, Math.min(1000, this.timeoutMs / 4)));
  }

  /**
   * Counts the bytes `queue` holds as waiting for `socket` too, until another queue replaces it:
   * Bun's `node:http` keeps a stalled response's bytes in the response, not in the socket.
   *
   * @example
   * ```ts
   * server.on("request", (req, res) => watchdog.watchQueue(req.socket, res));
   * ```
   */
  watchQueue(socket: WatchedSocket, queue: WatchedQueue): void {
    const entry = this.#sockets.get(socket);
    if (entry) entry.queue = queue;
  }

  /** Stops watching everything. */
  close(): void {
    this.#sockets.clear();
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #forget(socket: WatchedSocket): void {
    this.#sockets.delete(socket);
    if (this.#sockets.size === 0 && this.#timer) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  readonly #check = (): void => {
    const now = Date.now();
    for (const [socket, entry] of this.#sockets) {
      if (socket.destroyed) {
        this.#forget(socket);
        continue;
      }
      const sent = sentBytes(socket);
      if ((socket.writableLength === 0 && !(entry.queue && entry.queue.writableLength > 0)) || sent !== entry.sent) {
        entry.sent = sent;
        entry.since = 0;
        continue;
      }
      if (entry.since === 0) entry.since = now;
      else if (now - entry.since >= this.timeoutMs) {
        this.#forget(socket);
        this.#onStall?.(socket);
        socket.destroy();
      }
    }
  };
}

// bytesWritten counts queued bytes too; what is still queued has not reached the kernel.
function sentBytes(socket: WatchedSocket): number {
  return (socket.bytesWritten ?? 0) - socket.writableLength;
}
