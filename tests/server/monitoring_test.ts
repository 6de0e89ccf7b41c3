// The seed article's `monitoring:` section on strom serve: metrics and the health check on their own
// port behind the API's accounts, alerts in /health and /metrics, `hooks.on_alert` commands, and a
// condition that does not read refused with its file, line and key.
import { afterAll, describe, expect, it } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../lib/core/log.ts";
import { loadConfigText } from "../../server/config/mod.ts";
import { runtimeIo } from "../../server/load.ts";
import { startServer } from "../../server/server.ts";
import { freePort } from "../_support/net.ts";
import { waitFor } from "../outputs/_server.ts";

const dir = mkdtempSync(join(tmpdir(), "strom-monitoring-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const basic = (user: string, password: string) => ({ Authorization: "Basic " + btoa(`${user}:${password}`) });

describe("monitoring section", () => {
  it(
    "serves metrics and the health check on metrics_port with the API's accounts; alerts fire into /health, /metrics and on_alert hooks",
    async () => {
      const port = await freePort();
      const hookLog = join(dir, "alerts.log");
      const server = await startServer({
        configSources: [JSON.stringify({
          api: { listen: "127.0.0.1:0", local_auth: true, auth: { users: { prom: { password: "scrape" } } } },
          rtsp: { listen: "" },
          webrtc: { listen: "" },
          // A preloaded camera nobody answers for: a stream that should run and does not.
          streams: { cam: "rtsp://127.0.0.1:9/nothing" },
          preload: { cam: "" },
          monitoring: {
            enabled: true,
            metrics_port: `127.0.0.1:${port}`,
            health_check: "/health",
            interval: "200ms",
            alerts: [
              { name: "any_memory", condition: "memory > 1MB" },
              { name: "camera_down", condition: "streams_down > 0", duration: "400ms" },
              { name: "never", condition: "connections > 100000" },
            ],
          },
          hooks: {
            on_alert: [{
              command: `sh -c 'echo "$STROM_ALERT $STROM_ALERT_STATE $STROM_STREAM." >> ${hookLog}'`,
            }],
          },
        })],
        log: silentLogger,
        handleSignals: false,
      });
      try {
        const own = `http://127.0.0.1:${port}`;
        const auth = basic("prom", "scrape");
        expect((await fetch(`${own}/metrics`)).status).toBe(401);
        expect((await fetch(`${own}/health`, { headers: basic("prom", "wrong") })).status).toBe(401);
        const other = await fetch(`${own}/api/streams`, { headers: auth });
        expect(other.status).toBe(404);
        expect((await other.json()).message).toContain("serves only /metrics and /health");

        await waitFor("camera_down to fire", async () => {
          const h = await (await fetch(`${own}/health`, { headers: auth })).json();
          return h.alerts?.find((a: { name: string }) => a.name === "camera_down")?.firing === true;
        });
        const health = await (await fetch(`${own}/health`, { headers: auth })).json();
        expect(health.status).toBe("degraded");
        expect(health.streams_down).toBe(1);
        expect(health.alerts.map((a: { name: string; firing: boolean }) => `${a.name}:${a.firing}`)).toEqual([
          "any_memory:true",
          "camera_down:true",
          "never:false",
        ]);
        // The same answer on the API listener, at the path and at /api/health.
        const api = server.urls[0];
        for (const path of ["/health", "/api/health"]) {
          const res = await fetch(`${api}${path}`, { headers: auth });
          expect(res.status).toBe(200);
          expect((await res.json()).alerts.length).toBe(3);
        }

        const metrics = await fetch(`${own}/metrics`, { headers: auth });
        expect(metrics.status).toBe(200);
        expect(metrics.headers.get("content-type")).toContain("text/plain");
        const text = await metrics.text();
        expect(text).toContain('strom_alert_firing{alert="camera_down"} 1');
        expect(text).toContain('strom_alert_firing{alert="never"} 0');
        expect(text).toMatch(/^strom_process_resident_memory_bytes \d+/m);

        await waitFor(
          "the on_alert hooks to run",
          () => existsSync(hookLog) && readFileSync(hookLog, "utf8").split("\n").length >= 3,
        );
        expect(readFileSync(hookLog, "utf8").split("\n").filter(Boolean).sort()).toEqual([
          "any_memory firing .",
          "camera_down firing .",
        ]);
      } finally {
        await server.close();
      }
      // Closed with the server.
      expect(await fetch(`http://127.0.0.1:${port}/health`).then(() => "open", () => "closed")).toBe(
        "closed",
      );
    },
    30_000,
  );

  it("refuses a condition that does not read, or a metrics_port that is no port, naming the key", async () => {
    const bad = await loadConfigText(
      "monitoring:\n  enabled: true\n  alerts:\n    - name: load\n      condition: load > 3\n",
      runtimeIo,
      "strom.yaml",
    ).then(() => undefined, (e) => e as Error);
    expect(bad?.message).toContain("strom.yaml:5");
    expect(bad?.message).toContain("monitoring.alerts[0].condition");
    expect(bad?.message).toContain('"load" is not a measure');
    const port = await loadConfigText("monitoring:\n  metrics_port: prometheus\n", runtimeIo, "strom.yaml")
      .then(() => undefined, (e) => e as Error);
    expect(port?.message).toContain("a port like 9090");
    // The seed article's own example loads: a bare port and "per 1h".
    const seed = await loadConfigText(
      "monitoring:\n  enabled: true\n  metrics_port: 9090\n  health_check: /health\n  alerts:\n" +
        "    - { name: high_cpu_usage, condition: cpu_percent > 80, duration: 5m, action: restart }\n" +
        "    - { name: memory_leak, condition: memory_growth > 100MB per 1h, action: notify }\n",
      runtimeIo,
      "strom.yaml",
    );
    expect(seed.config.monitoring).toMatchObject({
      enabled: true,
      metrics_port: "9090",
      alerts: [{ duration: 300 }, { action: "notify" }],
    });
  });
  it("takes the seed article's metrics: list as metrics turned on, saying where each name is", async () => {
    const loaded = await loadConfigText(
      "metrics:\n  - stream_count\n  - bandwidth_out\n  - cpu_usage\n  - fps\n",
      runtimeIo,
      "strom.yaml",
    );
    expect(loaded.config.metrics).toEqual({ enabled: true, path: "/metrics" });
    const notes = loaded.warnings.filter((w) => w.code === "list-form").map((w) => w.message);
    expect(notes).toEqual([
      'strom.yaml:1: "metrics" as a list turns the metrics on (metrics: {enabled: true}); strom serves all its families: ' +
      "stream_count is strom_streams; bandwidth_out is strom_stream_bytes_sent_total; cpu_usage is strom_process_cpu_seconds_total.",
      'strom.yaml:1: "fps" is not a metric strom knows; its families are listed in docs/metrics.md.',
    ]);
  });
});
