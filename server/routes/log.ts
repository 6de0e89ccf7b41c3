/**
 * `GET /api/log` (recent log lines as JSON lines, oldest first) and `DELETE /api/log` (clear them).
 *
 * @module
 */
import type { Hono } from "hono";
import type { AppContext } from "../context.ts";

/**
 * Registers `GET` and `DELETE /api/log`.
 *
 * @example
 * ```ts
 * logRoutes(app, ctx);
 * ```
 */
export function logRoutes(app: Hono, ctx: AppContext): void {
  app.get("/api/log", (c) => {
    return c.body(ctx.logBuffer?.text() ?? "", 200, { "Content-Type": "application/jsonlines; charset=utf-8" });
  });
  app.delete("/api/log", (c) => {
    ctx.logBuffer?.clear();
    return c.body(null, 204);
  });
}
