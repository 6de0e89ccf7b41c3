/**
 * `GET /api/cluster`: the cluster as this node sees it — live nodes with their load and owned
 * streams, and the owner of every stream. Without a `cluster:` config it answers with an empty
 * cluster (`nodes: []`).
 *
 * @module
 */
import type { Hono } from "hono";
import type { ClusterInfo } from "../cluster/node.ts";

/**
 * Registers `GET /api/cluster`; `info` returns undefined when clustering is off.
 *
 * @example
 * ```ts
 * clusterRoutes(app, () => node?.info());
 * // GET /api/cluster -> {"node":"node-1","nodes":[{"name":"node-1","load":2,"streams":["cam"],...}],"streams":{"cam":"node-1"}}
 * ```
 */
export function clusterRoutes(app: Hono, info: () => ClusterInfo | undefined): void {
  app.get("/api/cluster", (c) => {
    const now = info();
    return c.json(now ?? { node: "", nats: { connected: false }, nodes: [], streams: {} });
  });
}
