/**
 * Process metrics: build info, resident memory, CPU time, start time and uptime. The numbers come
 * from an injected {@link ProcessStats} so tests can pin them; {@link runtimeProcessStats} reads
 * the running process (lib/runtime/host.ts).
 *
 * @module
 */
import { cpuSeconds, residentMemoryBytes } from "../../lib/runtime/host.ts";
import type { ExpositionWriter } from "./exposition.ts";

/** Where process numbers come from. */
export interface ProcessStats {
  /** Resident set size in bytes. */
  residentMemoryBytes(): number;
  /** User plus system CPU time in seconds since the process started. */
  cpuSeconds(): number;
}

/**
 * The running process's stats (resident memory and CPU time, from lib/runtime/host.ts).
 *
 * @example
 * ```ts
 * runtimeProcessStats().residentMemoryBytes(); // 48234496
 * ```
 */
export function runtimeProcessStats(): ProcessStats {
  return { residentMemoryBytes, cpuSeconds };
}

/** What {@link writeProcessMetrics} reports. */
export interface ProcessInfo {
  /** strom version (`strom_build_info{version}`). */
  version: string;
  /** `node`, `deno` or `bun` (`strom_build_info{runtime}`). */
  runtime: string;
  /** When the server started, ms since the epoch. */
  startedAtMs: number;
  stats: ProcessStats;
  /** The clock, ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

/**
 * Writes `strom_build_info`, `strom_process_resident_memory_bytes`, `strom_process_cpu_seconds_total`,
 * `strom_process_start_time_seconds` and `strom_uptime_seconds`.
 *
 * @example
 * ```ts
 * writeProcessMetrics(writer, { version: "0.1.0", runtime: "node", startedAtMs: Date.now(), stats: runtimeProcessStats() });
 * ```
 */
export function writeProcessMetrics(writer: ExpositionWriter, info: ProcessInfo): void {
  const now = (info.now ?? Date.now)();
  writer.gauge("strom_build_info", "Always 1; the labels say which strom version runs on which runtime.")
    .set({ version: info.version, runtime: info.runtime }, 1);
  writer.gauge("strom_process_resident_memory_bytes", "Resident memory size in bytes.")
    .set({}, info.stats.residentMemoryBytes());
  writer.counter("strom_process_cpu_seconds_total", "User and system CPU time spent, in seconds.")
    .set({}, info.stats.cpuSeconds());
  writer.gauge(
    "strom_process_start_time_seconds",
    "When the server started, in seconds since the Unix epoch.",
  )
    .set({}, info.startedAtMs / 1000);
  writer.gauge("strom_uptime_seconds", "Seconds since the server started.")
    .set({}, Math.max(0, (now - info.startedAtMs) / 1000));
}
