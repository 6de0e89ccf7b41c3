/**
 * `GET /api/schemes`: the source URL schemes this server can dial (`["demo", "rtsp", ...]`).
 *
 * @module
 */
import type { Hono } from "hono";
import { registeredSchemes } from "../../lib/core/registry.ts";

/**
 * Registers `GET /api/schemes`.
 *
 * @example
 * ```ts
 * schemesRoutes(app);
 * ```
 */
export function schemesRoutes(app: Hono): void {
  app.get("/api/schemes", (c) => c.json(registeredSchemes()));
}
