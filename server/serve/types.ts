/**
 * The contract of the HTTP adapter (`node.ts`, on `node:http` for every runtime), so the Hono app
 * and its routes never know how they are served.
 *
 * @module
 */
import type { Context, Hono } from "hono";
import type { UpgradeWebSocket } from "hono/ws";

/** Where to listen. `hostname` "0.0.0.0" listens on all IPv4 interfaces; port 0 picks a free port. */
export interface ListenOptions {
  hostname: string;
  port: number;
  /** Serve HTTPS (and WSS) with this certificate chain and key, both PEM text. */
  tls?: TlsFiles;
  /** Connection timeouts (`limits:`); each 0 or absent leaves the runtime's default. */
  timeouts?: HttpTimeouts;
}

/** Connection timeouts of an HTTP listener, in ms. */
export interface HttpTimeouts {
  /** A client must send complete request headers within this long (half-open clients). */
  headerMs?: number;
  /** Close a keep-alive connection without a new request after this long. */
  idleMs?: number;
  /** Destroy a connection whose peer takes no bytes for this long while a response waits. */
  writeMs?: number;
}

/** A certificate chain and its private key, PEM text. */
export interface TlsFiles {
  cert: string;
  key: string;
}

/** The address a server is bound to (the real port when 0 was asked for). */
export interface BoundAddr {
  hostname: string;
  port: number;
}

/**
 * A running HTTP server.
 *
 * @example
 * ```ts
 * const server = await adapter.serve(app, { hostname: "127.0.0.1", port: 0 });
 * console.log(server.addr.port);
 * await server.close();
 * ```
 */
export interface HttpServer {
  readonly addr: BoundAddr;
  /** Stops listening and closes open connections and WebSockets. Idempotent. */
  close(): Promise<void>;
  /**
   * Replaces the TLS certificate for new connections (open ones keep theirs); only on HTTPS
   * servers of runtimes that can swap it in place (Node, Deno). Others (Bun) restart the listener instead.
   */
  setTls?(tls: TlsFiles): void;
}

/** Hono's WebSocket upgrade helper, with the raw socket type erased (it differs per runtime). */
// deno-lint-ignore no-explicit-any
export type UpgradeWebSocketFn = UpgradeWebSocket<any>;

/**
 * One runtime's way to serve a Hono app.
 *
 * @example
 * ```ts
 * const adapter = await loadServeAdapter();
 * const app = createApp({ ..., upgradeWebSocket: adapter.upgradeWebSocket, remoteAddress: adapter.remoteAddress });
 * const server = await adapter.serve(app, { hostname: "127.0.0.1", port: 1984 });
 * ```
 */
export interface ServeAdapter {
  /** The runtime this process runs on (for the log). */
  readonly runtime: "node" | "deno" | "bun";
  /** Starts serving `app`; resolves once listening. */
  // deno-lint-ignore no-explicit-any
  serve(app: Hono<any, any, any>, options: ListenOptions): Promise<HttpServer>;
  /** Route helper for WebSocket endpoints: `app.get("/api/ws", upgradeWebSocket((c) => ({ onMessage })))`. */
  upgradeWebSocket: UpgradeWebSocketFn;
  /** The peer IP address of a request, when the runtime exposes it. */
  remoteAddress(c: Context): string | undefined;
}
