/**
 * `GET /api/cluster`: the cluster as this node sees it — live nodes with their load and owned
 * streams, and the owner of every stream. Without a `cluster:` config it answers with an empty
 * cluster (`nodes: []`).
 *
 * @module
 */
import type { Hono } from "hono";
import { withoutUserinfo } from "../../lib/core/redact.ts";
import { mayRead, requestUser } from "../auth.ts";
import type { ClusterInfo, NodeAnnouncement } from "../cluster/node.ts";

/**
 * Registers `GET /api/cluster` and `GET /api/cluster/node`; `info` and `self` return undefined when
 * clustering is off. `/api/cluster/node` is this node as other nodes of a `cluster.nodes` cluster
 * check it: name, RTSP address (without credentials), load, the streams it has and those it pulls.
 *
 * @example
 * ```ts
 * clusterRoutes(app, () => node?.info());
 * // GET /api/cluster -> {"node":"node-1","nodes":[{"name":"node-1","load":2,"streams":["cam"],...}],"streams":{"cam":"node-1"}}
 * ```
 */
export function clusterRoutes(
  app: Hono,
  info: () => ClusterInfo | undefined,
  self: (host: string) => NodeAnnouncement | undefined = () => undefined,
): void {
  app.get("/api/cluster/node", (c) => {
    // The host the asking node reached this one at (from the Host header), without brackets.
    const host = new URL(c.req.url).hostname.replace(/^\[|\]$/g, "");
    const me = self(host);
    if (!me) return c.json({ error: "clustering is off on this node (no cluster.nats or cluster.nodes)" }, 404);
    const user = requestUser(c);
    const mine = (name: string) => mayRead(user, name);
    return c.json({
      ...me,
      rtsp: withoutUserinfo(me.rtsp),
      streams: me.streams.filter(mine),
      configured: me.configured.filter(mine),
    });
  });
  app.get("/api/cluster", (c) => {
    const now = info();
    if (!now) return c.json({ node: "", nats: { connected: false }, nodes: [], streams: {} });
    // A viewer account sees only the streams it may watch by name (as in /api/streams).
    const user = requestUser(c);
    if (!user) return c.json(now);
    const mine = (name: string) => mayRead(user, name);
    return c.json({
      ...now,
      nodes: now.nodes.map((n) => ({ ...n, streams: n.streams.filter(mine) })),
      streams: Object.fromEntries(Object.entries(now.streams).filter(([name]) => mine(name))),
    });
  });
}
