/**
 * Deno adapter: serves the Hono app with `Deno.serve` and WebSockets with `hono/deno`.
 * One of the three files allowed to import a runtime-specific Hono adapter.
 *
 * @module
 */
import type { Context, Hono } from "hono";
import { getConnInfo, upgradeWebSocket as denoUpgradeWebSocket } from "hono/deno";
import type { HttpServer, ListenOptions, ServeAdapter, UpgradeWebSocketFn } from "./types.ts";

// deno-lint-ignore no-explicit-any
type AnyHono = Hono<any, any, any>;

/** The part of the Deno namespace used here (typed locally so Node's type-check needs no Deno types). */
interface DenoServeApi {
  serve(
    options: {
      hostname: string;
      port: number;
      cert?: string;
      key?: string;
      signal?: AbortSignal;
      onListen?: (addr: { hostname: string; port: number }) => void;
      onError?: (error: unknown) => Response;
    },
    handler: (request: Request, info: unknown) => Response | Promise<Response>,
  ): { addr: { hostname: string; port: number }; finished: Promise<void>; shutdown(): Promise<void> };
}

/** WebSockets currently open per server, so `close()` can end them (Deno waits for them otherwise). */
const socketsOf = new WeakMap<Request, Set<WebSocket>>();

/**
 * Route helper for WebSocket endpoints on Deno.
 *
 * @example
 * ```ts
 * app.get("/api/ws", upgradeWebSocket(() => ({ onMessage: (e, ws) => ws.send(String(e.data)) })));
 * ```
 */
// deno-lint-ignore no-explicit-any
export const upgradeWebSocket: UpgradeWebSocketFn = ((createEvents: (c: Context) => unknown, options?: any) =>
  // Wrap the events to track the raw socket of each open connection.
  denoUpgradeWebSocket(async (c: Context) => {
    // deno-lint-ignore no-explicit-any
    const events = (await createEvents(c)) as any;
    const sockets = socketsOf.get(c.req.raw);
    if (!sockets) return events;
    return {
      ...events,
      // deno-lint-ignore no-explicit-any
      onOpen(evt: Event, ws: any) {
        if (ws.raw) sockets.add(ws.raw);
        events.onOpen?.(evt, ws);
      },
      // deno-lint-ignore no-explicit-any
      onClose(evt: CloseEvent, ws: any) {
        if (ws.raw) sockets.delete(ws.raw);
        events.onClose?.(evt, ws);
      },
    };
  }, options)) as unknown as UpgradeWebSocketFn;

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
    return undefined; // not served by Deno.serve (e.g. app.request() in tests)
  }
}

/**
 * Serves `app` with `Deno.serve`; resolves once listening with the bound address.
 *
 * @example
 * ```ts
 * const server = await serve(app, { hostname: "127.0.0.1", port: 0 });
 * await server.close();
 * ```
 */
export function serve(app: AnyHono, options: ListenOptions): Promise<HttpServer> {
  const deno = (globalThis as unknown as { Deno: DenoServeApi }).Deno;
  const sockets = new Set<WebSocket>();
  return new Promise((resolve, reject) => {
    try {
      const server = deno.serve(
        {
          hostname: options.hostname,
          port: options.port,
          ...(options.tls ? { cert: options.tls.cert, key: options.tls.key } : {}),
          onListen: () => {},
          onError: () => new Response("Internal Server Error", { status: 500 }),
        },
        (request, info) => {
          socketsOf.set(request, sockets);
          return app.fetch(request, info);
        },
      );
      let closing: Promise<void> | undefined;
      resolve({
        addr: { hostname: server.addr.hostname, port: server.addr.port },
        close() {
          closing ??= (async () => {
            const done = server.shutdown();
            for (const ws of sockets) {
              try {
                ws.close(1001, "server shutting down");
              } catch { /* already closing */ }
            }
            sockets.clear();
            await done;
          })();
          return closing;
        },
      });
    } catch (error) {
      reject(error);
    }
  });
}

/** The Deno {@link ServeAdapter}. */
export const adapter: ServeAdapter = { runtime: "deno", serve, upgradeWebSocket, remoteAddress };
