/**
 * Prometheus metrics for the server: a text exposition writer, process/stream/HTTP collectors.
 *
 * @example
 * ```ts
 * import { MetricsCollector, EXPOSITION_CONTENT_TYPE } from "./metrics/mod.ts";
 * const text = new MetricsCollector({ hub, version: "0.1.0", runtime: "bun" }).scrape();
 * ```
 *
 * @module
 */
export { MetricsCollector, type MetricsCollectorOptions } from "./collector.ts";
export {
  escapeHelp,
  escapeLabelValue,
  EXPOSITION_CONTENT_TYPE,
  ExpositionWriter,
  formatValue,
  type Labels,
  MetricFamily,
  type MetricType,
} from "./exposition.ts";
export { HttpRequestMetrics, matchedRoute, UNMATCHED_ROUTE } from "./http_requests.ts";
export {
  type ProcessInfo,
  type ProcessStats,
  runtimeProcessStats,
  writeProcessMetrics,
} from "./process_metrics.ts";
export { labelRedactor, SLOT_STATES, writeStreamMetrics } from "./stream_metrics.ts";
