/**
 * The monitoring module (`monitoring:`, from the go2rtc seed article): when `monitoring.enabled`,
 *
 * - serves the health check at `monitoring.health_check` (the `/api/health` answer) on the API;
 * - with `metrics_port`, a listener of its own that answers only the metrics path and the health
 *   check, each handed to the API app, so accounts, `allow_paths` and limits apply as there;
 * - checks `monitoring.alerts` every `interval`: a firing alert is logged as a warning and sent to
 *   `hooks.on_alert`; `restart` restarts the server in-process (not in its first minute, so a
 *   condition that start-up itself causes cannot loop), `exit` stops it with code 75 for a
 *   supervisor. A cleared alert is logged and sent to the hooks as `resolved`.
 *
 * The metrics themselves are the metrics module's (`monitoring.enabled` turns them on as
 * `metrics.enabled` does).
 *
 * @module
 */
import { Hono } from "hono";
import { formatAddress } from "../../lib/runtime/address.ts";
import { cpuSeconds, residentMemoryBytes } from "../../lib/runtime/host.ts";
import { toNetError } from "../../lib/runtime/net_error.ts";
import { isNoIpv6 } from "../../lib/runtime/tcp.ts";
import { normalizeBasePath } from "../app.ts";
import { httpUrl, parseListen } from "../listen.ts";
import type { ProcessStats } from "../metrics/mod.ts";
import { AlertEngine, type AlertStatus } from "../monitoring/alerts.ts";
import { type AlertMeasure, formatAlertValue, parseAlertCondition } from "../monitoring/condition.ts";
import { healthHandler, streamStates } from "../routes/health.ts";
import { loadServeAdapter } from "../serve/mod.ts";
import type { HttpServer } from "../serve/types.ts";
import { DEFAULT_METRICS_PATH } from "./metrics.ts";
import type { Module } from "./types.ts";

/** Exit code of the `exit` action: EX_TEMPFAIL, "try again later", for a supervisor. */
export const ALERT_EXIT_CODE = 75;
/** `restart` waits until the server has been up this long. */
const RESTART_AFTER_UPTIME_MS = 60_000;

/**
 * Creates the monitoring module. `stats` and `now` replace the process numbers and the clock (tests).
 *
 * @example
 * ```ts
 * const handle = await createMonitoringModule().init(ctx, app);
 * ```
 */
export function createMonitoringModule(options: { stats?: ProcessStats; now?: () => number } = {}): Module {
  return {
    name: "monitoring",
    async init(ctx, app) {
      const m = ctx.config.monitoring;
      if (!m?.enabled) return;
      const log = ctx.log.child({ module: "monitoring" });
      const now = options.now ?? Date.now;
      const stats = options.stats ?? { cpuSeconds, residentMemoryBytes };
      const startedAt = ctx.startedAt ?? now();
      const health = healthHandler(ctx);
      const healthPath = m.health_check || "/health";
      if (healthPath !== "/api/health") app.get(healthPath, health);

      // Actions wait for the server's first minute to pass; the alert must still be firing then.
      const due = new Map<string, AlertStatus>();
      const act = (status: AlertStatus) => {
        if (status.action === "notify") return;
        if (now() - startedAt < RESTART_AFTER_UPTIME_MS) {
          if (!due.has(status.name)) {
            log.warn(
              `alert "${status.name}" asks for ${status.action}, which waits until the server has run a minute`,
            );
          }
          due.set(status.name, status);
          return;
        }
        due.delete(status.name);
        if (!ctx.requestStop) {
          log.error(
            `alert "${status.name}" asks for ${status.action}, but this server was not started by strom serve`,
          );
          return;
        }
        log.error(
          `alert "${status.name}": ${
            status.action === "restart" ? "restarting the server" : `exiting with code ${ALERT_EXIT_CODE}`
          }`,
          {
            condition: status.condition,
            value: shown(status),
          },
        );
        ctx.requestStop(
          status.action === "restart"
            ? { restart: true, code: 0 }
            : { restart: false, code: ALERT_EXIT_CODE },
        );
      };
      const emit = (status: AlertStatus, state: "firing" | "resolved") => {
        if (!ctx.hub.events.listened) return;
        ctx.hub.events.emit({
          type: "alert",
          stream: "",
          time: now(),
          state,
          alert: status.name,
          condition: status.condition,
          value: status.value ?? 0,
          action: status.action,
        });
      };
      const measures = new Map<string, AlertMeasure>();
      for (const a of m.alerts ?? []) measures.set(a.name, parseAlertCondition(a.condition).measure);
      const shown = (s: AlertStatus) => formatAlertValue(measures.get(s.name)!, s.value);
      const engine = new AlertEngine(m.alerts ?? [], {
        now,
        read: () => ({
          cpuSeconds: stats.cpuSeconds(),
          rssBytes: stats.residentMemoryBytes(),
          streamsDown: streamStates(ctx).down,
          connections: ctx.limits?.open ?? 0,
        }),
        onFire: (status) => {
          log.warn(`alert "${status.name}" firing: ${status.condition} (now ${shown(status)})`, {
            action: status.action,
          });
          emit(status, "firing");
          act(status);
        },
        onResolve: (status) => {
          due.delete(status.name);
          log.info(
            `alert "${status.name}" resolved: ${status.condition} no longer holds (now ${shown(status)})`,
          );
          emit(status, "resolved");
        },
      });
      const detach = ctx.alerts?.attach(() => engine.statuses());
      let timer: ReturnType<typeof setInterval> | undefined;
      if ((m.alerts ?? []).length > 0) {
        engine.check(); // the first CPU reading; CPU alerts measure from here
        timer = setInterval(() => {
          try {
            engine.check();
            for (const status of due.values()) act(status);
          } catch (error) {
            log.error("alert check failed", { error: (error as Error).message });
          }
        }, Math.max(100, m.interval * 1000));
      }

      let server: HttpServer | undefined;
      const listen = m.metrics_port ? parseListen(m.metrics_port) : undefined;
      if (listen) {
        const base = normalizeBasePath(ctx.config.api?.base_path);
        const metricsPath = ctx.config.metrics?.path || DEFAULT_METRICS_PATH;
        const own = new Hono();
        // Only these two paths, each answered by the API app itself (auth, allow_paths, limits).
        const forward = (path: string) => (c: { req: { raw: Request }; env: unknown }) => {
          const url = new URL(c.req.raw.url);
          url.pathname = base + path;
          return app.fetch(new Request(url, c.req.raw), c.env);
        };
        own.get(metricsPath, forward(metricsPath));
        own.get(healthPath, forward(healthPath));
        own.notFound((c) =>
          c.json({
            error: "NotFound",
            message: `monitoring.metrics_port serves only ${metricsPath} and ${healthPath}.`,
          }, 404)
        );
        const adapter = await loadServeAdapter();
        const where = `${formatAddress(listen.hostname, listen.port)} (monitoring.metrics_port)`;
        try {
          server = await adapter.serve(own, listen).catch((error) => {
            if (listen.hostname === "::" && isNoIpv6(error)) {
              return adapter.serve(own, { ...listen, hostname: "0.0.0.0" });
            }
            throw error;
          }).catch((error) => {
            throw toNetError(error, "listen on", where);
          });
        } catch (error) {
          if (timer) clearInterval(timer);
          detach?.();
          throw error;
        }
        log.info(`metrics and health check on ${httpUrl(server.addr)}`, {
          metrics: metricsPath,
          health: healthPath,
        });
      }
      return {
        close: async () => {
          if (timer) clearInterval(timer);
          detach?.();
          await server?.close();
        },
      };
    },
  };
}

/**
 * The built-in monitoring module.
 *
 * @example
 * ```ts
 * export const builtinModules = [metricsModule, monitoringModule];
 * ```
 */
export const monitoringModule: Module = createMonitoringModule();
