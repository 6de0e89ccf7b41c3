/**
 * Bun adapter: serves the Hono app with `Bun.serve` and WebSockets with `hono/bun`.
 * One of the three files allowed to import a runtime-specific Hono adapter.
 *
 * @module
 */
import type { Context, Hono } from "hono";
import { getConnInfo, upgradeWebSocket as bunUpgradeWebSocket, websocket } from "hono/bun";
import type { HttpServer, ListenOptions, ServeAdapter, UpgradeWebSocketFn } from "./types.ts";

// deno-lint-ignore no-explicit-any
type AnyHono = Hono<any, any, any>;

/** The part of the Bun namespace used here (typed locally so Node's type-check needs no Bun types). */
interface BunServeApi {
  serve(options: {
    hostname: string;
    port: number;
    tls?: { cert: string; key: string };
    idleTimeout?: number;
    fetch: (request: Request, server: unknown) => Response | Promise<Response>;
    websocket: unknown;
  }): { hostname: string; port: number; stop(closeActiveConnections?: boolean): Promise<void> | void };
}

/**
 * Route helper for WebSocket endpoints on Bun.
 *
 * @example
 * ```ts
 * app.get("/api/ws", upgradeWebSocket(() => ({ onMessage: (e, ws) => ws.send(String(e.data)) })));
 * ```
 */
export const upgradeWebSocket: UpgradeWebSocketFn = bunUpgradeWebSocket;

/**
 * The peer IP address of a request served by {@link serve}.
 *
 * @example
 * ```ts
 * remoteAddress(c); // "127.0.0.1"
 * ```
 */
export function remoteAddress(c: Context): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined; // not served by Bun.serve (e.g. app.request() in tests)
  }
}

/**
 * Serves `app` with `Bun.serve`; resolves once listening with the bound address.
 *
 * @example
 * ```ts
 * const server = await serve(app, { hostname: "127.0.0.1", port: 0 });
 * await server.close();
 * ```
 */
export function serve(app: AnyHono, options: ListenOptions): Promise<HttpServer> {
  const bun = (globalThis as unknown as { Bun: BunServeApi }).Bun;
  try {
    const server = bun.serve({
      hostname: options.hostname,
      port: options.port,
      ...(options.tls ? { tls: { cert: options.tls.cert, key: options.tls.key } } : {}),
      // limits.connection_timeout / idle_timeout: Bun has one idle timeout (seconds, at most 255).
      ...(options.timeouts?.headerMs || options.timeouts?.idleMs
        ? { idleTimeout: Math.min(255, Math.max(1, Math.ceil(Math.min(options.timeouts.headerMs || Infinity, options.timeouts.idleMs || Infinity) / 1000))) }
        : {}),
      // hono/bun finds the server (for WebSocket upgrades) in the second argument.
      fetch: (request, srv) => app.fetch(request, srv),
      websocket,
    });
    let closing: Promise<void> | undefined;
    return Promise.resolve({
      addr: { hostname: server.hostname, port: server.port },
      close() {
        closing ??= Promise.resolve(server.stop(true)).then(() => {});
        return closing;
      },
    });
  } catch (error) {
    return Promise.reject(error);
  }
}

/** The Bun {@link ServeAdapter}. */
export const adapter: ServeAdapter = { runtime: "bun", serve, upgradeWebSocket, remoteAddress };
