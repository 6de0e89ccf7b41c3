/**
 * `GET /api` (server info, as go2rtc) and `GET /api/health` (liveness for load balancers and
 * container health checks).
 *
 * @module
 */
import type { Hono } from "hono";
import type { AppContext } from "../context.ts";

/**
 * Registers `GET /api` and `GET /api/health`.
 *
 * @example
 * ```ts
 * apiInfoRoutes(app, ctx);
 * ```
 */
export function apiInfoRoutes(app: Hono, ctx: AppContext): void {
  const startedAt = ctx.startedAt ?? Date.now();

  app.get("/api", (c) => {
    const config = ctx.config as { rtsp?: { listen?: string; default_query?: string } };
    return c.json({
      version: ctx.version,
      config_path: ctx.configFile?.path ?? "",
      host: c.req.header("host") ?? "",
      rtsp: {
        listen: config.rtsp?.listen ?? "",
        default_query: config.rtsp?.default_query ?? "video&audio",
      },
    });
  });

  app.get("/api/health", (c) => {
    return c.json({
      status: "ok",
      uptime_s: Math.round((Date.now() - startedAt) / 1000),
      streams: ctx.hub.names().length,
    });
  });
}
