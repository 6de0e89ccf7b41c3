/**
 * `GET /api` (server info, as go2rtc). `/api/health` lives in `health.ts`.
 *
 * @module
 */
import type { Hono } from "hono";
import type { AppContext } from "../context.ts";

/**
 * Registers `GET /api`.
 *
 * @example
 * ```ts
 * apiInfoRoutes(app, ctx);
 * ```
 */
export function apiInfoRoutes(app: Hono, ctx: AppContext): void {
  app.get("/api", (c) => {
    const config = ctx.config as { rtsp?: { listen?: string; tls_listen?: string; default_query?: string } };
    return c.json({
      version: ctx.version,
      config_path: ctx.configFile?.path ?? "",
      host: c.req.header("host") ?? "",
      rtsp: {
        listen: config.rtsp?.listen ?? "",
        default_query: config.rtsp?.default_query ?? "video&audio",
        // strom extension: an edge whose central_server is https pulls over RTSPS from this port.
        ...(config.rtsp?.tls_listen ? { tls_listen: config.rtsp.tls_listen } : {}),
      },
    });
  });
}
