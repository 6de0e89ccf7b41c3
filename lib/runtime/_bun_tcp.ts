/**
 * Plain TCP listeners and connections on Bun's own sockets (`Bun.listen`, `Bun.connect`), used by
 * tcp.ts on Bun. RTSP fan-out writes one frame per viewer per frame time; through Bun's `node:net`
 * emulation each write goes through the Writable stream machinery (write request objects,
 * writeOrBuffer, onwrite), which at 100-200 viewers cost most of strom's CPU beyond the C relay's
 * (issue 15); each read through the Readable one (the camera's connection). Bun's socket writes
 * straight to the kernel and says how many bytes it took.
 *
 * Writing: `socket.write(chunk)` returns the bytes the kernel took (-1 once closed) and keeps
 * nothing. What it did not take is queued here, in order, without copying, and written from the
 * `drain` handler (called when the socket is writable again); while the queue is not empty new
 * chunks go behind it. {@link TcpConn.write} returns false once the queue holds
 * {@link HIGH_WATER_MARK} bytes, as `node:net` does with its own high-water mark.
 *
 * Closing: Bun's `end()` closes the socket at once (the kernel still sends what it took), without
 * waiting for the peer; `close()` here sends FIN with `shutdown()` once the queue is empty, and the
 * socket closes when the peer's FIN arrives (or after 10 s idle), as a `node:net` socket with
 * `allowHalfOpen: false` does. A peer's FIN ends `readable` and closes our side after the queue,
 * for the same reason (Bun's own `allowHalfOpen: false` would close at once, dropping the queue).
 *
 * Reading: with `binaryType: "uint8array"` every `data` call brings a fresh `Uint8Array`, kept
 * without a copy. Errors (a reset) arrive at the `close` handler as its second argument.
 *
 * @module
 */
import { netAddr } from "./_address.ts";
import { formatAddress } from "./address.ts";
import { ChunkReader } from "./_chunk_reader.ts";
import { type NetAddr, NetError, toNetError } from "./net_error.ts";
import type { TcpConn, TcpConnectOptions, TcpListener, TcpListenOptions } from "./tcp.ts";
import { WriteWatchdog } from "./write_watchdog.ts";
import {
  abortReason,
  closedConnError,
  connectTimeoutError,
  connWritable,
  disposeConn,
  DrainWaiter,
} from "./_tcp_conn_parts.ts";

/** Bytes queued in user space above which write() returns false (Node's socket default). */
export const HIGH_WATER_MARK = 64 * 1024;
const CLOSE_IDLE_S = 10;
const IO_ACTION = "read from or write to";

/** The part of Bun's TCP socket this file uses. */
interface BunSocket {
  data: BunTcpConn | undefined;
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Bytes the kernel took so far. */
  readonly bytesWritten: number;
  /** Bytes taken by the kernel, -1 when closed. */
  write(data: Uint8Array): number;
  /** Half-close: FIN, reading goes on. */
  shutdown(): void;
  /**
   * Closes the socket now; the kernel still sends what it took, then FIN (a reset when unread data
   * remains, as with any close). The close handler runs before it returns. (`terminate()` would
   * always reset, losing a last response still in the kernel.)
   */
  end(): void;
  pause(): void;
  resume(): void;
  setNoDelay(on: boolean): boolean;
  /** Idle timeout in seconds (0: off); then the timeout handler runs. */
  timeout(seconds: number): void;
}

interface BunSocketHandlers {
  binaryType: "uint8array";
  /** Connecting failed (Bun.connect also rejects its promise with the error). */
  connectError?(socket: BunSocket, error: unknown): void;
  open(socket: BunSocket): void;
  data(socket: BunSocket, data: Uint8Array): void;
  drain(socket: BunSocket): void;
  end(socket: BunSocket): void;
  close(socket: BunSocket, error?: unknown): void;
  error(socket: BunSocket, error: unknown): void;
  timeout(socket: BunSocket): void;
}

interface BunTcpListener {
  readonly hostname: string;
  readonly port: number;
  stop(closeActiveConnections?: boolean): void;
}

interface BunSocketOptions {
  hostname: string;
  port: number;
  /**
   * Always true here: without it Bun closes the socket right after the `end` handler, dropping what
   * is still queued; #onPeerEnd closes after the queue instead.
   */
  allowHalfOpen: true;
  socket: BunSocketHandlers;
}
type ListenFn = (o: BunSocketOptions) => BunTcpListener;
type ConnectFn = (o: BunSocketOptions) => Promise<BunSocket>;

/** `Bun.listen` when this is Bun, else undefined. */
export function bunListen(): ListenFn | undefined {
  const bun = (globalThis as { Bun?: { listen?: ListenFn } }).Bun;
  return typeof bun?.listen === "function" ? bun.listen.bind(bun) : undefined;
}

/** `Bun.connect` when this is Bun, else undefined. */
export function bunConnect(): ConnectFn | undefined {
  const bun = (globalThis as { Bun?: { connect?: ConnectFn } }).Bun;
  return typeof bun?.connect === "function" ? bun.connect.bind(bun) : undefined;
}

const ignore = () => {};

const OPEN = 0;
/** close() was called: no more writes; FIN once the queue is empty. */
const ENDING = 1;
const CLOSED = 2;

class BunTcpConn implements TcpConn {
  readonly localAddr: NetAddr;
  readonly remoteAddr: NetAddr;
  readonly closed: Promise<void>;
  readonly #socket: BunSocket;
  readonly #address: string;
  readonly #reader: ChunkReader;
  readonly #resolveClosed: () => void;
  #state = OPEN;
  #peerEnded = false;
  #deferClose = false;
  #error: NetError | undefined;
  // Bytes the kernel did not take yet, in order: #queue[#head..] (the head possibly a remainder).
  #queue: Uint8Array[] = [];
  #head = 0;
  #queued = 0;
  readonly #drain = new DrainWaiter();
  #finished: (() => void)[] = [];
  #writable: WritableStream<Uint8Array> | undefined;

  constructor(socket: BunSocket) {
    this.#socket = socket;
    this.localAddr = netAddr(socket.localAddress, socket.localPort);
    this.remoteAddr = netAddr(socket.remoteAddress, socket.remotePort);
    this.#address = formatAddress(this.remoteAddr.hostname, this.remoteAddr.port);
    socket.setNoDelay(true);
    let resolveClosed!: () => void;
    this.closed = new Promise((resolve) => (resolveClosed = resolve));
    this.#resolveClosed = resolveClosed;
    this.#reader = new ChunkReader(
      { pause: () => socket.pause(), resume: () => socket.resume(), destroy: () => this.destroy() },
      () => this.destroy(),
    );
  }

  /** The handlers of every socket of a listener; each socket's `data` is its connection. */
  static handlers(onOpen: (socket: BunSocket) => void): BunSocketHandlers {
    return {
      binaryType: "uint8array",
      open: onOpen,
      // `data` is set by the open handler, before any other event of the socket.
      data: (socket, data) => socket.data!.#reader.push(data),
      drain: (socket) => socket.data!.#flush(),
      end: (socket) => socket.data!.#onPeerEnd(),
      close: (socket, error) => {
        if (socket.data) socket.data.#onClose(error);
      },
      // Bun reports failures of the handlers themselves here (they catch their own): give up.
      error: (socket, error) => {
        const conn = socket.data;
        if (conn) conn.#error ??= toNetError(error, IO_ACTION, conn.#address);
        socket.end();
      },
      // Armed by close() only: a peer that never answers our FIN must not hold the socket forever.
      timeout: (socket) => socket.end(),
    };
  }

  get bufferedAmount(): number {
    return this.#queued;
  }

  get readable(): ReadableStream<Uint8Array> {
    return this.#reader.stream;
  }

  read(onChunk: (chunk: Uint8Array) => void, onEnd: (error?: unknown) => void): void {
    this.#reader.setSink(onChunk, onEnd);
  }

  write(chunk: Uint8Array): boolean {
    if (this.#state !== OPEN) return false;
    if (this.#queued === 0) {
      const n = this.#socket.write(chunk);
      if (n === chunk.byteLength) return true;
      if (n < 0) return false; // closed; the close handler has run or runs next
      chunk = chunk.subarray(n);
    }
    this.#queue.push(chunk);
    this.#queued += chunk.byteLength;
    return this.#queued < HIGH_WATER_MARK;
  }

  // Writes what the kernel takes of the queue; called when the socket is writable again.
  #flush(): void {
    const queue = this.#queue;
    const socket = this.#socket;
    let head = this.#head;
    while (head < queue.length) {
      const chunk = queue[head];
      const n = socket.write(chunk);
      if (n < 0) return; // closed: #onClose drops the queue
      this.#queued -= n;
      if (n < chunk.byteLength) {
        queue[head] = chunk.subarray(n);
        break;
      }
      head++;
    }
    if (head === queue.length) {
      queue.length = 0;
      head = 0;
    }
    this.#head = head;
    if (this.#queued < HIGH_WATER_MARK) this.#drain.resolve();
    if (this.#queued === 0 && this.#state === ENDING) this.#sendFin();
  }

  drained(): Promise<void> {
    if (this.#state !== OPEN) return Promise.reject(this.#closedError());
    if (this.#queued < HIGH_WATER_MARK) return Promise.resolve();
    return this.#drain.wait();
  }

  get writable(): WritableStream<Uint8Array> {
    return (this.#writable ??= connWritable(this, () => this.#end()));
  }

  setNoDelay(on: boolean): void {
    if (this.#state !== CLOSED) this.#socket.setNoDelay(on);
  }

  close(): void {
    if (this.#state !== OPEN) return;
    this.#state = ENDING;
    this.#socket.timeout(CLOSE_IDLE_S);
    if (this.#queued === 0) this.#sendFin();
  }

  #sendFin(): void {
    // After the peer's FIN nothing more can come: close outright (the kernel still sends what it holds).
    if (this.#peerEnded) this.#endSocket();
    else this.#socket.shutdown();
    const finished = this.#finished;
    this.#finished = [];
    for (const f of finished) f();
  }

  #onPeerEnd(): void {
    this.#peerEnded = true;
    this.#reader.close();
    if (this.#state === OPEN) this.close();
    else if (this.#state === ENDING && this.#queued === 0) this.#endSocket();
  }

  destroy(error?: unknown): void {
    if (error !== undefined) {
      this.#error ??= error instanceof NetError ? error : undefined;
      this.#reader.error(error);
    }
    if (this.#state === CLOSED) return;
    this.#endSocket();
  }

  // Closes the socket from a call of ours. Bun runs the close handler inside `end()`; node:net
  // reports a close a tick later, and callers rely on that: RtmpConnection.fail() destroys, then
  // ends its reader with the reason, which an end delivered inside destroy() would pre-empt.
  #endSocket(): void {
    this.#deferClose = true;
    try {
      this.#socket.end();
      this.#onClose(undefined); // in case Bun did not run the close handler
    } finally {
      this.#deferClose = false;
    }
  }

  #onClose(error: unknown): void {
    if (this.#state === CLOSED) return;
    this.#state = CLOSED;
    this.#queue = [];
    this.#head = 0;
    this.#queued = 0;
    if (this.#deferClose) queueMicrotask(() => this.#notifyClosed(error));
    else this.#notifyClosed(error);
  }

  #notifyClosed(error: unknown): void {
    if (error) {
      this.#error ??= toNetError(error, IO_ACTION, this.#address);
      this.#reader.error(this.#error);
    } else {
      this.#reader.close();
    }
    this.#drain.reject(this.#closedError());
    const finished = this.#finished;
    this.#finished = [];
    for (const f of finished) f();
    this.#resolveClosed();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return disposeConn(this);
  }

  #closedError(): NetError {
    return this.#error ?? closedConnError(this.#address);
  }

  // Resolves when queued data is handed over and FIN sent (or the socket is gone).
  #end(): Promise<void> {
    if (this.#state === CLOSED || (this.#state === ENDING && this.#queued === 0)) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#finished.push(resolve);
      this.close();
    });
  }

  // For WriteWatchdog, which watches node:net sockets by these members.
  get bytesWritten(): number {
    return this.#state === CLOSED ? 0 : this.#socket.bytesWritten + this.#queued;
  }

  get writableLength(): number {
    return this.#queued;
  }

  get destroyed(): boolean {
    return this.#state === CLOSED;
  }

  once(_event: "close", listener: () => void): void {
    void this.closed.then(listener);
  }
}

class BunListener implements TcpListener {
  readonly addr: NetAddr;
  readonly #server: BunTcpListener;
  #closed = false;

  constructor(server: BunTcpListener) {
    this.#server = server;
    this.addr = netAddr(server.hostname, server.port);
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    // Stops accepting; connections already accepted stay open (their owners close them).
    this.#server.stop(false);
    return Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Listens on `hostname` with Bun's own sockets (plain TCP only). Throws what Bun throws when the
 * port cannot be bound, mapped to a {@link NetError} naming the address.
 */
export function bunTcpListen(listen: ListenFn, o: TcpListenOptions, hostname: string): TcpListener {
  const watchdog = o.writeTimeoutMs ? new WriteWatchdog(o.writeTimeoutMs) : undefined;
  const onConnection = o.onConnection;
  const handlers = BunTcpConn.handlers((socket) => {
    const conn = new BunTcpConn(socket);
    socket.data = conn;
    watchdog?.watch(conn);
    try {
      onConnection(conn);
    } catch (error) {
      conn.destroy(error);
    }
  });
  let server: BunTcpListener;
  try {
    server = listen({ hostname, port: o.port, allowHalfOpen: true, socket: handlers });
  } catch (error) {
    throw toNetError(error, "listen on", formatAddress(hostname, o.port));
  }
  return new BunListener(server);
}

/**
 * Connects with Bun's own socket (plain TCP only), with the timeout, abort and error messages of
 * tcpConnect. Bun resolves host names itself and rejects with `code` ECONNREFUSED, ENOTFOUND...
 */
export function bunTcpConnect(connect: ConnectFn, o: TcpConnectOptions, timeoutMs: number): Promise<TcpConn> {
  const address = formatAddress(o.hostname, o.port);
  const signal = o.signal;
  return new Promise<TcpConn>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    // Set when the caller gave up (timeout, abort): a socket that connects later is closed at once.
    let abandoned = false;
    const cleanup = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    const fail = (error: unknown) => {
      abandoned = true;
      cleanup();
      reject(error);
    };
    const onAbort = () => fail(abortReason(signal));
    const timer = setTimeout(() => fail(connectTimeoutError(address, timeoutMs)), timeoutMs);
    signal?.addEventListener("abort", onAbort, { once: true });
    const handlers = BunTcpConn.handlers((socket) => {
      if (abandoned) {
        socket.end();
        return;
      }
      // Bytes may come before the promise below resolves: the connection holds them until read.
      socket.data = new BunTcpConn(socket);
    });
    handlers.connectError = ignore; // the promise rejects with the same error
    connect({ hostname: o.hostname, port: o.port, allowHalfOpen: true, socket: handlers }).then(
      (socket) => {
        if (abandoned) {
          socket.end();
          return;
        }
        cleanup();
        if (socket.data) resolve(socket.data);
        else fail(new NetError("Other", `Cannot connect to ${address}: the socket closed at once`, { address }));
      },
      (error) => {
        if (!abandoned) fail(toNetError(error, "connect to", address));
      },
    );
  });
}
