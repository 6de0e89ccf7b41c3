/**
 * TCP (and TLS) connections as Web Streams, on `node:net` / `node:tls`, which Node, Deno and Bun all
 * implement.
 *
 * Reading: {@link TcpConn.readable} yields plain `Uint8Array` views (no copy) and pauses the socket
 * when its queue holds more than 256 KiB, so a slow reader pushes back on the peer through TCP flow
 * control instead of growing memory.
 *
 * Writing: {@link TcpConn.write} is synchronous and never blocks; it returns `false` once the
 * socket's user-space buffer is above its high-water mark, and {@link TcpConn.drained} says when to
 * go on. Media senders use this directly (drop or wait per their own policy); code that prefers
 * streams uses {@link TcpConn.writable}.
 *
 * Errors: every failure is a {@link NetError}. A connection that errors or is reset never raises an
 * uncaught exception or an unhandled rejection: the error goes to `readable` readers and pending
 * `drained()` callers, and `closed` resolves.
 *
 * On Bun, plain (non-TLS) listeners and connections use Bun's own sockets (_bun_tcp.ts), which
 * cost less CPU per write and per read than its `node:net` emulation (RTSP fan-out writes every
 * frame to every viewer); `STROM_BUN_TCP=node` selects `node:net` there instead, for comparison.
 *
 * @module
 */
import * as net from "node:net";
import * as tls from "node:tls";
import { netAddr } from "./_address.ts";
import { formatAddress } from "./address.ts";
import { NodeReadableAdapter } from "./_node_readable.ts";
import { bunConnect, bunListen, bunTcpConnect, bunTcpListen } from "./_bun_tcp.ts";
import { getEnv } from "./env.ts";
import { type NetAddr, NetError, toNetError } from "./net_error.ts";
import { WriteWatchdog } from "./write_watchdog.ts";
import {
  abortReason,
  closedConnError,
  connectTimeoutError,
  connWritable,
  disposeConn,
  DrainWaiter,
} from "./_tcp_conn_parts.ts";

/** A connected TCP (or TLS) socket. */
export interface TcpConn {
  /** Bytes from the peer; ends on FIN/close, errors with a {@link NetError} on reset. Cancel destroys the socket. */
  readonly readable: ReadableStream<Uint8Array>;
  readonly localAddr: NetAddr;
  readonly remoteAddr: NetAddr;
  /**
   * Queues `chunk` without blocking. Returns `false` when the write buffer is above the high-water
   * mark (the chunk is still queued) or the connection is closed (the chunk is dropped); then await
   * {@link drained}. The chunk is not copied: do not modify it until `drained()` resolved.
   */
  write(chunk: Uint8Array): boolean;
  /**
   * Reads without the Web Stream: every chunk goes to `onChunk` synchronously as the runtime
   * delivers it, then `onEnd` is called once (with the error, if the connection failed). For hot
   * paths that parse every byte at once (RTSP interleaved RTP): the stream's promise per chunk costs
   * ~0.1 ms per chunk on Node, on the latency path of every frame. The chunk is not reused by the
   * runtime, so views into it may be kept. The socket is never paused: the caller consumes as it
   * goes. If `onChunk` throws, the connection is destroyed and `onEnd` gets the error. Use either
   * `readable` or `read()`: `read()` throws once `readable` was used, and `readable` is then an
   * empty, closed stream. Bytes that arrived before either was used are delivered first.
   *
   * @example
   * ```ts
   * conn.read((chunk) => parser.push(chunk), (error) => error ? log.warn(String(error)) : log.info("closed"));
   * ```
   */
  read(onChunk: (chunk: Uint8Array) => void, onEnd: (error?: unknown) => void): void;
  /** Bytes queued for sending and not yet handed to the kernel. */
  readonly bufferedAmount: number;
  /**
   * Resolves when the write buffer fell below the high-water mark (at once if it is not above).
   * Rejects with a `BrokenPipe` (or the connection's own) {@link NetError} once the connection is
   * closed, so `if (!conn.write(x)) await conn.drained()` loops end.
   */
  drained(): Promise<void>;
  /** Backpressure-aware Web Stream view over {@link write}; `close()` ends the socket gracefully. */
  readonly writable: WritableStream<Uint8Array>;
  /** Nagle off (`true`, the default here) sends small writes at once. */
  setNoDelay(on: boolean): void;
  /** Graceful end: FIN after flushing queued data. The socket is destroyed if it then idles 10 s. */
  close(): void;
  /** Immediate close. With `error`, `readable` readers reject with it. */
  destroy(error?: unknown): void;
  /** Resolves once the socket is fully closed (either side, any reason). Never rejects. */
  readonly closed: Promise<void>;
  /** `close()`, wait up to 2 s for the peer, then `destroy()`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** TLS options for {@link tcpConnect}; `true` means defaults (verify the certificate). */
export type TlsOptions = boolean | { rejectUnauthorized?: boolean; servername?: string };

/** Options of {@link tcpConnect}. */
export interface TcpConnectOptions {
  hostname: string;
  port: number;
  /** Give up connecting (and the TLS handshake) after this long. Default 10 000 ms. */
  timeoutMs?: number;
  /** Aborting rejects with `signal.reason` and destroys the socket. */
  signal?: AbortSignal;
  /** Wrap in TLS (rtsps, https). Cameras with self-signed certificates need `{ rejectUnauthorized: false }`. */
  tls?: TlsOptions;
}

/** A listening TCP server socket. */
export interface TcpListener {
  /** The bound address; `port` is the real port when 0 was asked for. */
  readonly addr: NetAddr;
  /** Stops accepting. Connections already accepted stay open; their owners close them. */
  close(): Promise<void>;
  /** On a TLS listener: serves this certificate to new connections (a renewed one). */
  setTls?(files: { cert: string; key: string }): void;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Options of {@link tcpListen}. */
export interface TcpListenOptions {
  /** Default `"0.0.0.0"` (all IPv4). `"::"` is dual-stack, and falls back to `"0.0.0.0"` on a host without IPv6. */
  hostname?: string;
  /** 0 picks a free port; read it from {@link TcpListener.addr}. */
  port: number;
  /** Called for each accepted connection. If it throws, the connection is destroyed. */
  onConnection: (conn: TcpConn) => void;
  /**
   * Accept TLS (e.g. RTSPS) with this certificate chain and key, PEM text. Connections reach
   * `onConnection` once the handshake is done; a failed handshake never does.
   */
  tls?: { cert: string; key: string };
  /**
   * Destroys an accepted connection whose peer takes no bytes for this long while data waits for
   * it (a viewer that stopped reading). Default: never.
   */
  writeTimeoutMs?: number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const CLOSE_IDLE_MS = 10_000;
const IO_ACTION = "read from or write to";

// Shared so attaching it allocates nothing.
const ignore = () => {};

class SocketConn implements TcpConn {
  readonly localAddr: NetAddr;
  readonly remoteAddr: NetAddr;
  readonly closed: Promise<void>;
  readonly #socket: net.Socket;
  readonly #address: string;
  readonly #reader: NodeReadableAdapter;
  #error: NetError | undefined;
  #isClosed = false;
  readonly #drain = new DrainWaiter();
  #writable: WritableStream<Uint8Array> | undefined;

  constructor(socket: net.Socket) {
    this.#socket = socket;
    this.localAddr = netAddr(socket.localAddress, socket.localPort);
    this.remoteAddr = netAddr(socket.remoteAddress, socket.remotePort);
    this.#address = formatAddress(this.remoteAddr.hostname, this.remoteAddr.port);
    socket.setNoDelay(true);

    let resolveClosed!: () => void;
    this.closed = new Promise((resolve) => (resolveClosed = resolve));

    // Registered before the reader's own listeners so #error is set when they run.
    socket.on("error", (error) => {
      this.#error ??= toNetError(error, IO_ACTION, this.#address);
    });
    this.#reader = new NodeReadableAdapter(
      socket,
      (error) => this.#error ?? toNetError(error, IO_ACTION, this.#address),
      () => socket.destroy(),
    );
    socket.on("drain", () => this.#drain.resolve());
    // Only armed by close(): a peer that never answers our FIN must not hold the socket forever.
    socket.on("timeout", () => socket.destroy());
    socket.once("close", () => {
      this.#isClosed = true;
      this.#drain.reject(this.#closedError());
      resolveClosed();
    });
  }

  get bufferedAmount(): number {
    return this.#socket.writableLength;
  }

  get readable(): ReadableStream<Uint8Array> {
    return this.#reader.stream;
  }

  read(onChunk: (chunk: Uint8Array) => void, onEnd: (error?: unknown) => void): void {
    this.#reader.setSink(onChunk, onEnd);
  }

  write(chunk: Uint8Array): boolean {
    const socket = this.#socket;
    if (this.#isClosed || socket.destroyed || socket.writableEnded) return false;
    return socket.write(chunk);
  }

  drained(): Promise<void> {
    if (this.#isClosed || this.#socket.destroyed || this.#socket.writableEnded) {
      return Promise.reject(this.#closedError());
    }
    if (!this.#needsDrain()) return Promise.resolve();
    return this.#drain.wait();
  }

  get writable(): WritableStream<Uint8Array> {
    return (this.#writable ??= connWritable(this, () => this.#end()));
  }

  setNoDelay(on: boolean): void {
    this.#socket.setNoDelay(on);
  }

  close(): void {
    if (this.#isClosed || this.#socket.destroyed || this.#socket.writableEnded) return;
    this.#socket.end();
    this.#socket.setTimeout(CLOSE_IDLE_MS);
  }

  destroy(error?: unknown): void {
    if (error !== undefined) {
      this.#error ??= error instanceof NetError ? error : undefined;
      this.#reader.error(error);
    }
    this.#socket.destroy();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return disposeConn(this);
  }

  #needsDrain(): boolean {
    const s = this.#socket as net.Socket & { writableNeedDrain?: boolean };
    return typeof s.writableNeedDrain === "boolean"
      ? s.writableNeedDrain
      : s.writableLength >= s.writableHighWaterMark;
  }

  #closedError(): NetError {
    return this.#error ?? closedConnError(this.#address);
  }

  // Resolves when queued data is flushed and FIN sent (or the socket is gone).
  #end(): Promise<void> {
    const socket = this.#socket;
    if (this.#isClosed || socket.destroyed || socket.writableFinished) return Promise.resolve();
    return new Promise<void>((resolve) => {
      socket.once("finish", resolve);
      socket.once("close", resolve);
      this.close();
    });
  }
}

/**
 * Opens a TCP connection, optionally over TLS.
 *
 * @example
 * ```ts
 * const conn = await tcpConnect({ hostname: "192.168.1.10", port: 554, timeoutMs: 5000 });
 * conn.write(new TextEncoder().encode("OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n"));
 * for await (const chunk of conn.readable) console.log(chunk.byteLength);
 * ```
 */
export function tcpConnect(o: TcpConnectOptions): Promise<TcpConn> {
  const address = formatAddress(o.hostname, o.port);
  const timeoutMs = o.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const bun = o.tls ? undefined : bunConnect();
  if (bun && getEnv("STROM_BUN_TCP") !== "node") return bunTcpConnect(bun, o, timeoutMs);
  const signal = o.signal;
  return new Promise<TcpConn>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    let socket: net.Socket;
    try {
      if (o.tls) {
        const t = typeof o.tls === "object" ? o.tls : {};
        socket = tls.connect({
          host: o.hostname,
          port: o.port,
          rejectUnauthorized: t.rejectUnauthorized ?? true,
          // SNI must be a name, never an IP literal (RFC 6066 section 3).
          servername: t.servername ?? (net.isIP(o.hostname) ? undefined : o.hostname),
        });
      } else {
        socket = net.connect({ host: o.hostname, port: o.port });
      }
    } catch (error) {
      reject(toNetError(error, "connect to", address));
      return;
    }
    const connectEvent = o.tls ? "secureConnect" : "connect";
    const cleanup = () => {
      clearTimeout(timer);
      socket.off(connectEvent, onConnect);
      socket.off("error", onError);
      signal?.removeEventListener("abort", onAbort);
    };
    const fail = (error: unknown) => {
      cleanup();
      socket.on("error", ignore); // late errors of the abandoned socket must not go uncaught
      socket.destroy();
      reject(error);
    };
    const onConnect = () => {
      cleanup();
      resolve(new SocketConn(socket));
    };
    const onError = (error: unknown) => fail(toNetError(error, "connect to", address));
    const onAbort = () => fail(abortReason(signal));
    const timer = setTimeout(() => fail(connectTimeoutError(address, timeoutMs)), timeoutMs);
    socket.once(connectEvent, onConnect);
    socket.on("error", onError);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

class ServerListener implements TcpListener {
  readonly addr: NetAddr;
  readonly #server: net.Server;
  #closed = false;

  constructor(server: net.Server) {
    this.#server = server;
    const a = server.address();
    this.addr = a && typeof a === "object" ? netAddr(a.address, a.port) : { hostname: "", port: 0 };
  }

  setTls(files: { cert: string; key: string }): void {
    if (!(this.#server instanceof tls.Server)) throw new Error("setTls() on a listener without TLS");
    this.#server.setSecureContext({ cert: files.cert, key: files.key });
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    // The listening socket is closed synchronously; the callback waits for accepted connections,
    // which this listener does not own, so it is not awaited.
    this.#server.close(ignore);
    return Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Listens for TCP connections. Rejects with a {@link NetError} (`AddrInUse`, `PermissionDenied`, ...)
 * naming the address when the port cannot be bound.
 *
 * @example
 * ```ts
 * await using listener = await tcpListen({
 *   hostname: "127.0.0.1",
 *   port: 8554,
 *   onConnection: (conn) => conn.readable.pipeTo(conn.writable).catch(() => {}),
 * });
 * console.log(`listening on ${listener.addr.port}`);
 * ```
 */
export async function tcpListen(o: TcpListenOptions): Promise<TcpListener> {
  if (o.hostname !== "::") return await listenOn(o, o.hostname ?? "0.0.0.0");
  // "::" is dual-stack (IPv6 and IPv4-mapped) where the host has IPv6; on a host without it, all
  // IPv4 interfaces are what "every interface" can mean.
  try {
    return await listenOn(o, "::");
  } catch (error) {
    if (!isNoIpv6(error)) throw error;
    return await listenOn(o, "0.0.0.0");
  }
}

/** Whether a listen error means the host has no IPv6 (as opposed to a busy port). */
export function isNoIpv6(error: unknown): boolean {
  const text = `${(error as { code?: string })?.code ?? ""} ${(error as { cause?: { code?: string } })?.cause?.code ?? ""} ${String(error)}`;
  return /EAFNOSUPPORT|EADDRNOTAVAIL|EPROTONOSUPPORT|AddrNotAvailable|not supported|Address family/i.test(text);
}

function listenOn(o: TcpListenOptions, hostname: string): Promise<TcpListener> {
  const bun = o.tls ? undefined : bunListen();
  if (bun && getEnv("STROM_BUN_TCP") !== "node") {
    try {
      return Promise.resolve(bunTcpListen(bun, o, hostname));
    } catch (error) {
      return Promise.reject(error);
    }
  }
  const address = formatAddress(hostname, o.port);
  return new Promise<TcpListener>((resolve, reject) => {
    const server = o.tls
      ? tls.createServer({ allowHalfOpen: false, cert: o.tls.cert, key: o.tls.key })
      : net.createServer({ allowHalfOpen: false });
    // A handshake that fails (plain RTSP on the RTSPS port, a scanner) ends that socket only.
    if (o.tls) server.on("tlsClientError", (_error: Error, socket: net.Socket) => socket.destroy());
    const watchdog = o.writeTimeoutMs ? new WriteWatchdog(o.writeTimeoutMs) : undefined;
    server.on(o.tls ? "secureConnection" : "connection", (socket: net.Socket) => {
      // Errors before the TcpConn exists (reset right after accept) must not be uncaught.
      socket.on("error", ignore);
      watchdog?.watch(socket);
      const conn = new SocketConn(socket);
      try {
        o.onConnection(conn);
      } catch (error) {
        conn.destroy(error);
      }
    });
    const onError = (error: unknown) => {
      server.off("listening", onListening);
      server.close(ignore);
      reject(toNetError(error, "listen on", address));
    };
    const onListening = () => {
      server.off("error", onError);
      // Accept errors (EMFILE...) after listening: the server keeps listening, nothing to report to.
      server.on("error", ignore);
      resolve(new ServerListener(server));
    };
    server.once("error", onError);
    server.once("listening", onListening);
    try {
      server.listen({ host: hostname, port: o.port });
    } catch (error) {
      onError(error);
    }
  });
}
