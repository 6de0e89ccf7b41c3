/**
 * The HTTP server adapter. One adapter (`node.ts`, on `node:http`) serves Node, Deno and Bun: it is
 * the only server on all three that enforces the `limits:` header, idle and write timeouts (see
 * node.ts). It loads through a dynamic `import()`, so a program that only uses the library never
 * loads `@hono/node-server`, which replaces the global `Response` once loaded.
 *
 * @module
 */
import type { ServeAdapter } from "./types.ts";

export type { BoundAddr, HttpServer, ListenOptions, ServeAdapter, UpgradeWebSocketFn } from "./types.ts";

let cached: Promise<ServeAdapter> | undefined;

/**
 * The {@link ServeAdapter} for the runtime this process runs on.
 *
 * @example
 * ```ts
 * const adapter = await loadServeAdapter();
 * const server = await adapter.serve(app, { hostname: "127.0.0.1", port: 0 });
 * ```
 */
export function loadServeAdapter(): Promise<ServeAdapter> {
  cached ??= import("./node.ts").then((m) => m.adapter);
  return cached;
}
