/**
 * The debugging endpoints the go2rtc seed article uses (`curl /api/connections`, `curl
 * /api/connections.dot > topology.dot`, `watch -n 1 'curl -s /api/stats | jq .'`):
 *
 * - `GET /api/connections`: every connection, flat: each stream's sources (producers) with their
 *   state, and its consumers (viewers, recorders, pushes), as `/api/streams` describes them.
 * - `GET /api/connections.dot`: the same graph as `/api/streams.dot` (registered there).
 * - `GET /api/stats`: the server's numbers at a glance: uptime, CPU (total seconds, and percent of
 *   one core since the previous `/api/stats`), resident memory, streams, connections, bytes
 *   received from the sources connected now (they restart at 0 when a source reconnects) and bytes
 *   sent to consumers (those that left included).
 *
 * An account limited to some streams sees those streams' connections only; the server-wide numbers
 * stay whole, as in `/api/health`.
 *
 * @module
 */
import type { Hono } from "hono";
import type { ConnectionInfo } from "../../lib/core/connection.ts";
import { cpuSeconds, residentMemoryBytes } from "../../lib/runtime/host.ts";
import { mayRead, requestUser } from "../auth.ts";
import type { AppContext } from "../context.ts";
import { cpuPercent } from "../monitoring/alerts.ts";
import { streamStates } from "./health.ts";

/** One entry of `GET /api/connections`. */
export interface ConnectionEntry extends Partial<ConnectionInfo> {
  stream: string;
  /** `producer`: a source or publisher; `consumer`: a viewer, recorder or push. */
  role: "producer" | "consumer";
  /** A producer's source URL (secrets redacted). */
  url?: string;
  /** A producer's state: `idle`, `dialing`, `ready`, `running`, `stopped`... */
  state?: string;
}

interface ProducerInfo {
  url: string;
  state: string;
  connection?: ConnectionInfo;
  tracks?: { bytes: number }[];
}

/**
 * Registers `GET /api/connections` and `GET /api/stats`.
 *
 * @example
 * ```ts
 * statsRoutes(app, ctx); // then: curl http://127.0.0.1:1984/api/stats
 * ```
 */
export function statsRoutes(app: Hono, ctx: AppContext, stats = { cpuSeconds, residentMemoryBytes }): void {
  app.get("/api/connections", (c) => {
    const user = requestUser(c);
    const connections: ConnectionEntry[] = [];
    for (const stream of ctx.hub.streams()) {
      if (!mayRead(user, stream.name)) continue;
      const info = stream.info();
      for (const p of info.producers as ProducerInfo[]) {
        connections.push({ stream: stream.name, role: "producer", ...p.connection, url: p.url, state: p.state });
      }
      for (const consumer of info.consumers as ConnectionInfo[]) {
        connections.push({ ...consumer, stream: stream.name, role: "consumer" });
      }
    }
    return c.json({ connections });
  });

  const startedAt = ctx.startedAt ?? Date.now();
  // The first figure is the CPU since these routes were set up (the process has used CPU before the
  // server started: loading, other work of an embedding app).
  let last = { t: Date.now(), cpu: stats.cpuSeconds() };
  let lastPercent = 0;
  app.get("/api/stats", (c) => {
    const now = Date.now();
    const cpu = stats.cpuSeconds();
    // Percent of one core since the previous call (since the routes were set up for the first);
    // calls closer than 200 ms apart repeat the last figure instead of dividing by almost nothing.
    if (now - last.t >= 200) {
      lastPercent = cpuPercent(cpu - last.cpu, now - last.t);
      last = { t: now, cpu };
    }
    let producers = 0;
    let consumers = 0;
    let bytesIn = 0;
    let bytesOut = 0;
    for (const stream of ctx.hub.streams()) {
      const info = stream.info();
      producers += (info.producers as ProducerInfo[]).filter((p) => p.connection).length;
      consumers += info.consumers.length;
      bytesIn += stream.bytesReceived();
      bytesOut += stream.bytesSent(info.consumers as ConnectionInfo[]);
    }
    const { states, down } = streamStates(ctx);
    return c.json({
      uptime_s: Math.round((now - startedAt) / 1000),
      cpu_seconds: Math.round(cpu * 1000) / 1000,
      cpu_percent: lastPercent,
      memory_rss_bytes: stats.residentMemoryBytes(),
      streams: Object.keys(states).length,
      streams_down: down,
      producers,
      consumers,
      connections_open: ctx.limits?.open ?? 0,
      bytes_received: bytesIn,
      bytes_sent: bytesOut,
    });
  });
}
