/**
 * Health for load balancers and orchestrators:
 *
 * - `GET /api/health`: status (`ok`, `degraded` when a stream that should be running is down,
 *   `stopping` during shutdown) and the state of every stream.
 * - `GET /api/health/live`: liveness; 200 while the process answers at all (restart it otherwise).
 * - `GET /api/health/ready`: readiness; 200 once every listener is up, 503 during start-up and
 *   shutdown (send no traffic).
 *
 * A stream "should be running" when it is preloaded (`preload:`), pushed somewhere (`publish:`) or
 * had a publisher (RTSP ANNOUNCE, RTMP, WHIP) whose viewers now wait for it to come back.
 *
 * @module
 */
import type { Context, Hono } from "hono";
import type { Stream } from "../../lib/core/stream.ts";
import { mayRead, requestUser } from "../auth.ts";
import type { AppContext } from "../context.ts";

/** Start-up/shutdown state the server sets, read by the readiness probe. */
export interface Lifecycle {
  /** Every listener and module started. */
  ready: boolean;
  /** Shutdown began (SIGTERM/SIGINT or `close()`). */
  stopping: boolean;
}

/** The state of one stream in `/api/health`. */
/** `disabled`: turned off on purpose (privacy mode), not counted as down. */
export type StreamHealthState = "online" | "idle" | "down" | "disabled";

/** One stream in `/api/health`. */
export interface StreamHealth {
  state: StreamHealthState;
  /** Why it should be running: `preload`, `publish`, `publisher`. */
  expected?: string[];
  consumers: number;
  /** The last source error, when down. */
  error?: string;
}

/**
 * The health of one stream.
 *
 * @example
 * ```ts
 * streamHealth(hub.get("cam")!, ["preload"]); // { state: "down", expected: ["preload"], consumers: 0, error: "..." }
 * ```
 */
export function streamHealth(stream: Stream, expected: string[]): StreamHealth {
  const info = stream.info();
  const producers = info.producers as { url: string; state: string; error?: string }[];
  const online = producers.some((p) => p.state === "running" || p.state === "ready");
  const why = [...expected];
  // A publisher that left while viewers still wait for it (the slot stays, stopped).
  if (producers.some((p) => p.url.startsWith("publisher:") && p.state === "stopped")) why.push("publisher");
  const state: StreamHealthState = info.disabled
    ? "disabled"
    : online
    ? "online"
    : why.length > 0
    ? "down"
    : "idle";
  const error = state === "down" ? producers.find((p) => p.error)?.error : undefined;
  return {
    state,
    ...(why.length > 0 ? { expected: why } : {}),
    consumers: info.consumers.length,
    ...(error ? { error } : {}),
  };
}

/**
 * Registers the liveness and readiness probes. Call before the auth middleware: probes answer
 * without credentials (they tell nothing but "up" or "not ready").
 *
 * @example
 * ```ts
 * healthProbeRoutes(app, lifecycle);
 * app.use("*", authMiddleware(...));
 * ```
 */
export function healthProbeRoutes(app: Hono, lifecycle: Lifecycle | undefined): void {
  app.get("/api/health/live", (c) => c.json({ status: "ok" }));
  app.get("/api/health/ready", (c) => {
    if (lifecycle?.stopping) return c.json({ status: "stopping", message: "The server is shutting down." }, 503);
    if (lifecycle && !lifecycle.ready) return c.json({ status: "starting", message: "The server is still starting." }, 503);
    return c.json({ status: "ready" });
  });
}

/**
 * Registers `GET /api/health`.
 *
 * @example
 * ```ts
 * healthRoutes(app, ctx);
 * // GET /api/health → { status: "degraded", uptime_s: 12, streams: 1, streams_down: 1, stream_states: { cam: { state: "down", ... } } }
 * ```
 */
export function healthRoutes(app: Hono, ctx: AppContext): void {
  app.get("/api/health", healthHandler(ctx));
}

/**
 * The `/api/health` handler, also served at `monitoring.health_check`.
 *
 * @example
 * ```ts
 * app.get("/health", healthHandler(ctx));
 * ```
 */
export function healthHandler(ctx: AppContext): (c: Context) => Response {
  const startedAt = ctx.startedAt ?? Date.now();
  return (c) => {
    const { states, down } = streamStates(ctx);
    const stopping = ctx.lifecycle?.stopping ?? false;
    const status = stopping ? "stopping" : down > 0 ? "degraded" : "ok";
    // The status and counts are the server's; a viewer account sees only its own streams by name
    // (as in /api/streams).
    const user = requestUser(c);
    const visible = Object.fromEntries(Object.entries(states).filter(([name]) => mayRead(user, name)));
    const alerts = ctx.alerts?.statuses() ?? [];
    return c.json({
      status,
      uptime_s: Math.round((Date.now() - startedAt) / 1000),
      streams: Object.keys(states).length,
      streams_down: down,
      stream_states: visible,
      ...(alerts.length > 0 ? { alerts } : {}),
    }, stopping ? 503 : 200);
  };
}

/**
 * Every stream's health, and how many are down (streams that should run and do not).
 *
 * @example
 * ```ts
 * streamStates(ctx).down; // 0
 * ```
 */
export function streamStates(ctx: Pick<AppContext, "hub" | "config">): { states: Record<string, StreamHealth>; down: number } {
  const preload = new Set(Object.keys(ctx.config.preload ?? {}));
  const publish = new Set(Object.keys((ctx.config as { publish?: Record<string, unknown> }).publish ?? {}));
  const states: Record<string, StreamHealth> = {};
  let down = 0;
  for (const name of ctx.hub.names()) {
    const stream = ctx.hub.get(name);
    if (!stream) continue;
    const expected: string[] = [];
    if (preload.has(name)) expected.push("preload");
    if (publish.has(name)) expected.push("publish");
    const health = streamHealth(stream, expected);
    if (health.state === "down") down++;
    states[name] = health;
  }
  return { states, down };
}
