/**
 * The parts every {@link TcpConn} implementation shares (tcp.ts on `node:net`, _bun_tcp.ts on Bun's
 * own sockets): the `drained()` waiter, the `writable` stream over `write()`/`drained()`, the
 * graceful `asyncDispose`, and the errors for a closed connection and a connect that timed out or
 * was aborted, so both say the same thing in the same way.
 *
 * @module
 */
import { NetError } from "./net_error.ts";
import type { TcpConn } from "./tcp.ts";

/** How long `[Symbol.asyncDispose]` waits for the peer's FIN before closing outright. */
const DISPOSE_WAIT_MS = 2_000;

/** One promise for every `drained()` caller while the write buffer is above its high-water mark. */
export class DrainWaiter {
  #pending: { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } | undefined;

  /** The promise the next {@link resolve} or {@link reject} settles (the same one until then). */
  wait(): Promise<void> {
    if (!this.#pending) {
      let resolve!: () => void, reject!: (e: unknown) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.#pending = { promise, resolve, reject };
    }
    return this.#pending.promise;
  }

  resolve(): void {
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.resolve();
  }

  reject(error: unknown): void {
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.reject(error);
  }
}

/** The backpressure-aware Web Stream over `conn.write()`; `end` resolves once FIN is sent. */
export function connWritable(conn: TcpConn, end: () => Promise<void>): WritableStream<Uint8Array> {
  return new WritableStream<Uint8Array>({
    write: async (chunk) => {
      if (!conn.write(chunk)) await conn.drained();
    },
    close: end,
    abort: (reason) => conn.destroy(reason),
  });
}

/** `close()`, then `destroy()` if the peer has not closed within {@link DISPOSE_WAIT_MS}. */
export async function disposeConn(conn: TcpConn): Promise<void> {
  conn.close();
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    conn.closed,
    new Promise((resolve) => (timer = setTimeout(resolve, DISPOSE_WAIT_MS))),
  ]);
  clearTimeout(timer);
  conn.destroy();
  await conn.closed;
}

/** What writing to, or waiting on, a closed connection to `address` rejects with. */
export function closedConnError(address: string): NetError {
  return new NetError(
    "BrokenPipe",
    `Cannot write to ${address}: connection closed. Stop writing once closed resolves.`,
    { address },
  );
}

/** What a connect to `address` rejects with when nothing answered within `timeoutMs`. */
export function connectTimeoutError(address: string, timeoutMs: number): NetError {
  return new NetError(
    "TimedOut",
    `Cannot connect to ${address}: no answer within ${timeoutMs} ms. Check the address and that no firewall drops the packets.`,
    { address },
  );
}

/** What a connect rejects with when its signal aborted without a reason of its own. */
export function abortReason(signal: AbortSignal | undefined): unknown {
  return signal?.reason ?? new DOMException("The operation was aborted.", "AbortError");
}
