/**
 * Everything `/metrics` shows, rendered in one pass per scrape: process, HTTP requests, streams.
 *
 * @module
 */
import type { StreamHub } from "../../lib/core/hub.ts";
import { ExpositionWriter } from "./exposition.ts";
import type { HttpRequestMetrics } from "./http_requests.ts";
import { type ProcessStats, runtimeProcessStats, writeProcessMetrics } from "./process_metrics.ts";
import { labelRedactor, writeStreamMetrics } from "./stream_metrics.ts";

/** Options of {@link MetricsCollector}. */
export interface MetricsCollectorOptions {
  hub: StreamHub;
  version: string;
  /** `node`, `deno` or `bun`. */
  runtime: string;
  /** When the server started, ms since the epoch. Default: when the collector was created. */
  startedAtMs?: number;
  /** Default {@link runtimeProcessStats}. */
  stats?: ProcessStats;
  /** Request counts to include; without it `strom_http_requests_total` is left out. */
  http?: HttpRequestMetrics;
  /** Connection counts and limit refusals (`strom_connections_open`, `strom_limit_refusals_total`). */
  limits?: { writeMetrics(writer: ExpositionWriter): void };
  /** Config secret values masked in label values. */
  secrets?: readonly string[];
  /** `monitoring.alerts` states (`strom_alert_firing`, `strom_alert_value`); left out when it gives none. */
  alerts?: () => readonly { name: string; firing: boolean; value?: number }[];
  /** The clock, ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

/**
 * Renders the strom metrics.
 *
 * @example
 * ```ts
 * const metrics = new MetricsCollector({ hub, version: "0.1.0", runtime: "node" });
 * app.get("/metrics", (c) => c.body(metrics.scrape(), 200, { "content-type": EXPOSITION_CONTENT_TYPE }));
 * ```
 */
export class MetricsCollector {
  readonly #options: MetricsCollectorOptions;
  readonly #startedAtMs: number;
  readonly #stats: ProcessStats;
  readonly #redact: (value: string) => string;

  constructor(options: MetricsCollectorOptions) {
    this.#options = options;
    this.#startedAtMs = options.startedAtMs ?? Date.now();
    this.#stats = options.stats ?? runtimeProcessStats();
    this.#redact = labelRedactor(options.secrets);
  }

  /**
   * The exposition text of this moment. `visible` narrows the per-stream series to the streams an
   * account may watch (the server-wide totals stay whole, as in `/api/health`).
   */
  scrape(visible?: (stream: string) => boolean): string {
    const o = this.#options;
    const writer = new ExpositionWriter();
    writeProcessMetrics(writer, {
      version: o.version,
      runtime: o.runtime,
      startedAtMs: this.#startedAtMs,
      stats: this.#stats,
      now: o.now,
    });
    if (o.http) {
      o.http.write(writer.counter(
        "strom_http_requests_total",
        "HTTP requests answered by the API listener, by method, route pattern and status.",
      ));
    }
    o.limits?.writeMetrics(writer);
    const alerts = o.alerts?.() ?? [];
    if (alerts.length > 0) {
      const firing = writer.gauge("strom_alert_firing", "1 while a monitoring.alerts entry is firing, else 0.");
      const value = writer.gauge("strom_alert_value", "The last value an alert's condition measured (percent, bytes or a count).");
      for (const a of alerts) {
        firing.set({ alert: a.name }, a.firing ? 1 : 0);
        if (a.value !== undefined) value.set({ alert: a.name }, a.value);
      }
    }
    writeStreamMetrics(writer, o.hub, this.#redact, visible);
    return writer.text();
  }
}
