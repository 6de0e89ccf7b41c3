/**
 * What the `edge:` section asks for, resolved once: whether edge mode is on, where media and the
 * stream list come from, how long a dropped central's last picture is held and how long streams
 * stay pulled without viewers.
 *
 * @module
 */
import type { EdgeRoutingConfig, StromConfig } from "../config/types.ts";

/** The edge's resolved settings. */
export interface EdgeSettings {
  /** `edge.origin`: an RTSP base URL or, in a cluster, a node name. */
  origin?: string;
  /** `edge.central_server`: the central servers' HTTP API URLs (empty: none). */
  centrals: string[];
  /** `edge.routing`: which central is used. */
  routing: EdgeRoutingConfig;
  /** How long new viewers get the held picture while the central is down (0: refused at once). */
  holdMs: number;
  /** How long a stream stays pulled after its last viewer (`edge.cache.ttl`); undefined: the default 5 s. */
  graceMs?: number;
  /** How often the central's stream list is read again (`edge.refresh`). */
  refreshMs: number;
  /** `edge.cache.size` in bytes (0: no bound); 0 too when the cache is off. */
  cacheBytes: number;
}

/**
 * The edge settings of a config, or undefined when edge mode is off (`edge.enabled: false`, or
 * neither `origin` nor `central_server` set).
 *
 * @example
 * ```ts
 * const edge = edgeSettings(config);
 * const hub = new StreamHub({ holdMs: edge?.holdMs ?? 0, graceMs: edge?.graceMs });
 * ```
 */
export function edgeSettings(config: Pick<StromConfig, "edge">): EdgeSettings | undefined {
  const edge = config.edge;
  if (!edge || edge.enabled === false) return undefined;
  const origin = edge.origin?.trim() || undefined;
  const centrals = (edge.central_server ?? []).map((u) => u.trim()).filter((u) => u);
  if (!origin && centrals.length === 0) return undefined;
  const cache = edge.cache?.enabled ? edge.cache : undefined;
  return {
    origin,
    centrals,
    routing: {
      strategy: edge.routing?.strategy ?? "nearest",
      fallback: edge.routing?.fallback ?? "round-robin",
    },
    holdMs: edge.offline_mode === false ? 0 : (edge.hold ?? 30) * 1000,
    refreshMs: Math.max(0.2, edge.refresh ?? 30) * 1000,
    graceMs: cache ? Math.max(0, cache.ttl) * 1000 : undefined,
    cacheBytes: cache ? Math.max(0, cache.size) : 0,
  };
}
