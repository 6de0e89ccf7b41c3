/**
 * The metrics module: when `metrics.enabled` (or `monitoring.enabled`), serves Prometheus text
 * format on the API listener at `metrics.path` (default `/metrics`, under `api.base_path`) and counts
 * HTTP requests. The endpoint sits behind the same access control as the API (`api.allow_paths`,
 * Basic auth).
 *
 * @module
 */
import { runtimeName } from "../../lib/runtime/env.ts";
import { mayRead, requestUser } from "../auth.ts";
import {
  EXPOSITION_CONTENT_TYPE,
  HttpRequestMetrics,
  MetricsCollector,
  type ProcessStats,
} from "../metrics/mod.ts";
import type { Module } from "./types.ts";

/** The path used when `metrics.path` is empty. */
export const DEFAULT_METRICS_PATH = "/metrics";

/**
 * Creates the metrics module. `stats` replaces the process numbers (tests).
 *
 * @example
 * ```ts
 * const handle = await createMetricsModule().init(ctx, app);
 * const res = await app.request("/metrics");
 * ```
 */
export function createMetricsModule(options: { stats?: ProcessStats; now?: () => number } = {}): Module {
  return {
    name: "metrics",
    // deno-lint-ignore require-await
    async init(ctx, app) {
      // monitoring.enabled (the seed article's section) turns the metrics on too.
      if (!ctx.config.metrics?.enabled && !ctx.config.monitoring?.enabled) return;
      const path = ctx.config.metrics.path || DEFAULT_METRICS_PATH;
      const http = new HttpRequestMetrics();
      http.instrument(app);
      const collector = new MetricsCollector({
        hub: ctx.hub,
        version: ctx.version,
        runtime: runtimeName(),
        startedAtMs: ctx.startedAt,
        stats: options.stats,
        http,
        limits: ctx.limits,
        secrets: ctx.secrets,
        now: options.now,
        alerts: ctx.alerts ? () => ctx.alerts!.statuses() : undefined,
      });
      app.get(path, (c) => {
        // An account limited to some streams sees only those streams' series (their names and
        // source URLs are what it may not learn otherwise); give a Prometheus scraper its own account.
        const user = requestUser(c);
        const visible = user ? (stream: string) => mayRead(user, stream) : undefined;
        return c.body(collector.scrape(visible), 200, { "content-type": EXPOSITION_CONTENT_TYPE });
      });
      ctx.log.child({ module: "metrics" }).debug("serving Prometheus metrics", { path });
    },
  };
}

/**
 * The built-in metrics module.
 *
 * @example
 * ```ts
 * export const builtinModules = [rtspModule, metricsModule];
 * ```
 */
export const metricsModule: Module = createMetricsModule();
