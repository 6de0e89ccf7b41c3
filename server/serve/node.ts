/**
 * The HTTP adapter of every runtime: serves the Hono app on `node:http` (`@hono/node-server`) and
 * WebSockets with `@hono/node-ws`, on Node, Deno and Bun alike. `node:http` is used on Deno and Bun
 * too because it is the only server there that enforces `limits:` timeouts: `Deno.serve` has no
 * header, idle or write timeout and gives no access to the socket; `Bun.serve` closes a half-sent
 * request only after its own ~10 s whatever `idleTimeout` says, and has no write timeout. Deno's and
 * Bun's `node:http` check `headersTimeout` and `keepAliveTimeout` and hand over each accepted
 * `net.Socket`, so the same {@link WriteWatchdog} runs on all three. No copy is added per byte: the
 * server owns the socket. scripts/bench/http_adapters.ts measures a streaming response at 400-630
 * MB/s on Deno and ~1.1 GB/s on Bun (against Node's 250-310), 0.5-1.4x of `Deno.serve` and
 * 0.9-1.4x of `Bun.serve` in the same run, within the noise of a shared machine.
 *
 * `@hono/node-ws` binds its upgrade handler to one app at creation time, while routes need the
 * `upgradeWebSocket` helper before any server exists. So one shared instance is created here and its
 * upgrade dispatch looks up, per request, the app of the server that received the upgrade.
 *
 * @module
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { runtimeName } from "../../lib/runtime/env.ts";
import { WriteWatchdog } from "../../lib/runtime/write_watchdog.ts";
import type { Context, Hono } from "hono";
import { serve as nodeServe } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import { createNodeWebSocket } from "@hono/node-ws";
import type { HttpServer, ListenOptions, ServeAdapter, UpgradeWebSocketFn } from "./types.ts";

/** The part of a `ws` WebSocket used here (the `ws` package ships no types). */
interface WebSocket {
  terminate(): void;
  close(code?: number, reason?: string): void;
  once(event: "close", listener: () => void): void;
}

// deno-lint-ignore no-explicit-any
type AnyHono = Hono<any, any, any>;

/** Per upgrade request: the app and the WebSocket set of the server that accepted it. */
const upgrades = new WeakMap<IncomingMessage, { app: AnyHono; sockets: Set<WebSocket> }>();

const nodeWs = createNodeWebSocket({
  // Only `request` is used by @hono/node-ws: route it to the app of the server the upgrade came from.
  app: {
    request: (input: string | URL | Request, init?: RequestInit, env?: { incoming?: IncomingMessage }) => {
      const entry = env?.incoming ? upgrades.get(env.incoming) : undefined;
      if (!entry) return new Response(null, { status: 404 });
      return entry.app.request(input, init, env);
    },
  } as unknown as AnyHono,
});

nodeWs.wss.on("connection", (ws: WebSocket, request: IncomingMessage) => {
  const entry = upgrades.get(request);
  if (!entry) return;
  entry.sockets.add(ws);
  ws.once("close", () => entry.sockets.delete(ws));
});

/**
 * Route helper for WebSocket endpoints.
 *
 * @example
 * ```ts
 * app.get("/api/ws", upgradeWebSocket(() => ({ onMessage: (e, ws) => ws.send(String(e.data)) })));
 * ```
 */
export const upgradeWebSocket: UpgradeWebSocketFn = nodeWs.upgradeWebSocket;

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
    return undefined; // not served by @hono/node-server (e.g. app.request() in tests)
  }
}

/**
 * Serves `app` on `node:http` (or `node:https`); resolves once listening with the bound address.
 *
 * @example
 * ```ts
 * const server = await serve(app, { hostname: "127.0.0.1", port: 0 });
 * await fetch(`http://127.0.0.1:${server.addr.port}/api/health`);
 * await server.close();
 * ```
 */
export function serve(app: AnyHono, options: ListenOptions): Promise<HttpServer> {
  return new Promise((resolve, reject) => {
    const sockets = new Set<WebSocket>();
    // limits.connection_timeout / idle_timeout: Node checks headers and keep-alive idleness itself
    // (every connectionsCheckingInterval); requests themselves may last (streams, ingest).
    const t = options.timeouts ?? {};
    const timing = {
      requestTimeout: 0,
      ...(t.headerMs ? { headersTimeout: t.headerMs, connectionsCheckingInterval: Math.max(100, Math.min(1000, t.headerMs / 4)) } : {}),
      ...(t.idleMs ? { keepAliveTimeout: t.idleMs } : {}),
    };
    const server = (options.tls
      ? nodeServe({
        fetch: app.fetch,
        hostname: options.hostname,
        port: options.port,
        createServer: createHttpsServer,
        serverOptions: { cert: options.tls.cert, key: options.tls.key, ...timing },
      })
      : nodeServe({ fetch: app.fetch, hostname: options.hostname, port: options.port, serverOptions: timing })) as Server;
    // limits.write_timeout: a viewer whose socket takes nothing is dropped.
    const watchdog = t.writeMs ? new WriteWatchdog(t.writeMs) : undefined;
    if (watchdog) {
      server.on(options.tls ? "secureConnection" : "connection", (socket: Socket) => watchdog.watch(socket));
      server.on("request", (request: IncomingMessage, response: ServerResponse) => watchdog.watchQueue(request.socket, response));
    }
    const onError = (error: Error) => reject(error);
    server.once("error", onError);
    // Registered before @hono/node-ws's own listener, so the dispatch above finds the app.
    server.on("upgrade", (request: IncomingMessage) => upgrades.set(request, { app, sockets }));
    nodeWs.injectWebSocket(server);
    server.once("listening", () => {
      server.off("error", onError);
      const info = server.address() as AddressInfo;
      let closing: Promise<void> | undefined;
      resolve({
        addr: { hostname: info.address, port: info.port },
        close() {
          closing ??= new Promise<void>((done) => {
            server.close(() => done());
            watchdog?.close();
            // A close frame first (players see "server shutting down"), then the socket goes.
            for (const ws of sockets) {
              try {
                ws.close(1001, "server shutting down");
              } catch { /* already closing */ }
              setTimeout(() => ws.terminate(), 500);
            }
            sockets.clear();
            server.closeAllConnections();
          });
          return closing;
        },
        // Bun's node:https has no setSecureContext: the server restarts the listener there instead.
        setTls: options.tls && typeof (server as unknown as HttpsServer).setSecureContext === "function"
          ? (tls) => (server as unknown as HttpsServer).setSecureContext({ cert: tls.cert, key: tls.key })
          : undefined,
      });
    });
  });
}

/** The {@link ServeAdapter} (on every runtime). */
export const adapter: ServeAdapter = { runtime: runtimeName(), serve, upgradeWebSocket, remoteAddress };

