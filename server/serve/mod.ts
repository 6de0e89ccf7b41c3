/**
 * Picks the HTTP server adapter of the current runtime. Adapters load through dynamic `import()`, so
 * Node never loads `hono/deno` or `hono/bun`, and Deno/Bun never load `@hono/node-server`.
 *
 * @module
 */
import { runtimeName } from "../../lib/runtime/env.ts";
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
  cached ??= (async () => {
    switch (runtimeName()) {
      case "deno":
        return (await import("./deno.ts")).adapter;
      case "bun":
        return (await import("./bun.ts")).adapter;
      default:
        return (await import("./node.ts")).adapter;
    }
  })();
  return cached;
}
