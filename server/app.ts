/**
 * The HTTP API as a runtime-neutral Hono app. Serve it with `server/serve/` or test it without a
 * network through `app.request()`.
 *
 * @module
 */
import { Hono, type MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import type { AppContext } from "./context.ts";
import { AccountStore } from "./access/accounts.ts";
import { FailedLogins } from "./access/failed_logins.ts";
import { authMiddleware } from "./auth.ts";
import { errorToResponse, maskSecrets } from "./errors.ts";
import { redactSecrets } from "../lib/core/redact.ts";
import { apiInfoRoutes } from "./routes/api_info.ts";
import { healthProbeRoutes, healthRoutes } from "./routes/health.ts";
import { disabledRoutes } from "./routes/disabled.ts";
import { ConnectionLimits } from "./limits/connection_limits.ts";
import { httpLimitsMiddleware } from "./limits/http_limits.ts";
import { configRoutes } from "./routes/config.ts";
import { logRoutes } from "./routes/log.ts";
import { restartRoutes } from "./routes/restart.ts";
import { onvifRoutes } from "./routes/onvif.ts";
import { ffmpegRoutes } from "./routes/ffmpeg.ts";
import { onvifDeviceRoutes } from "./routes/onvif_device.ts";
import { schemesRoutes } from "./routes/schemes.ts";
import { streamsRoutes } from "./routes/streams.ts";
import { streamsDotRoutes } from "./routes/streams_dot.ts";
import { statsRoutes } from "./routes/stats.ts";
import { type WsHandlers, wsRoutes } from "./routes/ws.ts";
import { outputsRoutes } from "./routes/outputs.ts";
import { hlsRoutes } from "./routes/hls.ts";
import { ingestRoutes } from "./routes/ingest.ts";
import { viewerRedirectMiddleware } from "./routes/viewer_redirect.ts";
import { webRoutes } from "./routes/web.ts";

export type { AppContext } from "./context.ts";

/**
 * Normalizes `api.base_path`: `""` or `"/"` means none, otherwise a leading `/` and no trailing one.
 *
 * @example
 * ```ts
 * normalizeBasePath("rtc/"); // "/rtc"
 * ```
 */
export function normalizeBasePath(basePath: string | undefined): string {
  const trimmed = (basePath ?? "").trim().replace(/\/+$/, "");
  if (!trimmed) return "";
  return trimmed.startsWith("/") ? trimmed : `/${trimmed}`;
}

/**
 * Creates the API app. Routes live under `api.base_path`; modules add theirs to the returned app
 * (they are prefixed the same way).
 *
 * @example
 * ```ts
 * const app = createApp({ hub: new StreamHub(), config, log: silentLogger, version: "0.1.0" });
 * const res = await app.request("/api/health");
 * console.log(await res.json()); // { status: "ok", uptime_s: 0, streams: 0 }
 * ```
 */
export function createApp(ctx: AppContext, options: { wsHandlers?: WsHandlers } = {}): Hono {
  const log = ctx.log.child({ module: "api" });
  const basePath = normalizeBasePath(ctx.config.api?.base_path);
  const app = basePath ? new Hono().basePath(basePath) : new Hono();

  app.onError((error, c) => {
    // Hono's own exceptions with a prepared response (e.g. from middleware) pass through.
    if (error instanceof HTTPException && error.res) return error.getResponse();
    const { status, body, expected } = errorToResponse(error);
    if (expected) log.debug("request rejected", { method: c.req.method, path: c.req.path, status, error: body.message });
    else log.error("request failed", { method: c.req.method, path: c.req.path, error: maskSecrets(String((error as Error)?.stack ?? error)) });
    return c.json(body, status as 400);
  });
  app.notFound((c) => c.json({ error: "NotFound", message: `No route for ${c.req.method} ${c.req.path}.` }, 404));

  // Orchestrator probes answer before auth and allow_paths: they tell only "up" or "not ready".
  healthProbeRoutes(app, ctx.lifecycle);
  if (ctx.config.api?.origin === "*") {
    app.use("*", cors({
      origin: "*",
      allowMethods: ["GET", "HEAD", "PUT", "PATCH", "POST", "DELETE", "OPTIONS"],
      // A WHEP/WHIP client on another origin reads the session's Location (to DELETE it) and ETag.
      exposeHeaders: ["Location", "ETag"],
    }));
  }
  // Connection limits before auth: an over-limit client costs no password check.
  ctx.limits ??= new ConnectionLimits(ctx.config.limits ?? {}, ctx.log);
  app.use("*", httpLimitsMiddleware({
    limits: ctx.limits,
    hub: ctx.hub,
    maxBodySize: ctx.config.limits?.max_body_size ?? 0,
    remoteAddress: ctx.remoteAddress,
    basePath,
  }));
  // One account store and failed-login counter for every protocol (modules read them from ctx).
  ctx.accounts ??= new AccountStore(ctx.config);
  ctx.failedLogins ??= new FailedLogins({ maxFailures: ctx.config.api?.auth?.max_failed_logins });
  app.use("*", authMiddleware(ctx.config.api, {
    basePath,
    remoteAddress: ctx.remoteAddress,
    accounts: ctx.accounts,
    failedLogins: ctx.failedLogins,
  }));

  const secrets = (ctx.secrets ?? []).filter((v) => v.length >= 3);
  if (secrets.length > 0) app.use("*", maskSecretsMiddleware(secrets));
  // cluster.load_balancer: a new HTTP viewer may be sent to another node (ctx.viewerRedirect).
  app.use("*", viewerRedirectMiddleware(ctx, basePath));

  apiInfoRoutes(app, ctx);
  healthRoutes(app, ctx);
  disabledRoutes(app, ctx);
  streamsRoutes(app, ctx);
  streamsDotRoutes(app, ctx);
  statsRoutes(app, ctx);
  configRoutes(app, ctx);
  schemesRoutes(app);
  logRoutes(app, ctx);
  restartRoutes(app, ctx);
  onvifRoutes(app);
  ffmpegRoutes(app, ctx);
  onvifDeviceRoutes(app, ctx, basePath);
  const wsHandlers = options.wsHandlers ?? new Map();
  outputsRoutes(app, ctx, wsHandlers);
  hlsRoutes(app, ctx, wsHandlers);
  ingestRoutes(app, ctx);
  wsRoutes(app, ctx, wsHandlers);
  webRoutes(app, ctx);
  return app;
}

/**
 * Replaces configured secret values with `***` in JSON, JSON-lines and Graphviz responses (stream
 * info, logs, errors, streams.dot). Media responses are never touched, and neither is `/api/config`, which serves the file
 * for editing.
 */
function maskSecretsMiddleware(secrets: string[]): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const type = c.res.headers.get("content-type") ?? "";
    if (!/json|graphviz/.test(type) || c.req.path.endsWith("/api/config")) return;
    const text = redactSecrets(await c.res.text(), secrets);
    const headers = new Headers(c.res.headers);
    headers.delete("content-length");
    const status = c.res.status;
    // Reset first: assigning over an existing response would copy its (now wrong) Content-Length.
    c.res = undefined as unknown as Response;
    c.res = new Response(text, { status, headers });
  };
}
