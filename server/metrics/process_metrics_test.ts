import { describe, expect, it } from "bun:test";
import { parseExposition } from "./_exposition_parser.ts";
import { ExpositionWriter } from "./exposition.ts";
import { runtimeProcessStats, writeProcessMetrics } from "./process_metrics.ts";

describe("process metrics", () => {
  it("writes build info, memory, CPU, start time and uptime from the injected stats", () => {
    const w = new ExpositionWriter();
    writeProcessMetrics(w, {
      version: "1.2.3",
      runtime: "deno",
      startedAtMs: 1_700_000_000_000,
      now: () => 1_700_000_012_500,
      stats: { residentMemoryBytes: () => 4096, cpuSeconds: () => 1.25 },
    });
    const f = parseExposition(w.text());
    expect(f.get("strom_build_info")!.samples[0].labels).toEqual({ version: "1.2.3", runtime: "deno" });
    expect(f.get("strom_build_info")!.samples[0].value).toBe(1);
    expect(f.get("strom_process_resident_memory_bytes")!.samples[0].value).toBe(4096);
    expect(f.get("strom_process_cpu_seconds_total")!.type).toBe("counter");
    expect(f.get("strom_process_cpu_seconds_total")!.samples[0].value).toBe(1.25);
    expect(f.get("strom_process_start_time_seconds")!.samples[0].value).toBe(1_700_000_000);
    expect(f.get("strom_uptime_seconds")!.samples[0].value).toBe(12.5);
  });

  it("reads real numbers from this runtime", () => {
    const stats = runtimeProcessStats();
    expect(stats.residentMemoryBytes()).toBeGreaterThan(1_000_000);
    const cpu = stats.cpuSeconds();
    expect(cpu).toBeGreaterThan(0);
    expect(cpu).toBeLessThan(3600);
  });
});
