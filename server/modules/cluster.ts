/**
 * The cluster module: with `cluster.nats` set, joins the NATS-backed cluster (server/cluster/), and
 * with `cluster.nodes` the cluster of listed nodes that check each other over HTTP, so each camera is
 * pulled by one node and every node serves every stream; with `edge.origin` set,
 * pulls every stream from the origin. Serves `GET /api/cluster`. Without either, it changes nothing
 * and the NATS client is never loaded.
 *
 * Runs after the RTSP module (other nodes read this one's streams over RTSP) and before preload and
 * recording, so no stream is dialed before the node knows whether it owns it.
 *
 * @module
 */
import { abortableSleep } from "../../lib/core/abortable_sleep.ts";
import { type BalancerNode, ViewerBalancer } from "../cluster/balancer.ts";
import type { ClusterConfig } from "../config/types.ts";
import type { ClusterNode, NodeAnnouncement } from "../cluster/node.ts";
import { findSelf, type ListedNode, listedNodes, NodeListError } from "../cluster/node_list.ts";
import type { StaticClusterNode } from "../cluster/static_node.ts";
import { withoutUserinfo } from "../../lib/core/redact.ts";
import { CacheBound } from "../edge/cache_bound.ts";
import { CentralUrlError } from "../edge/central.ts";
import { EdgeRunner } from "../edge/edge.ts";
import { edgeSettings } from "../edge/settings.ts";
import { parseListen } from "../listen.ts";
import { clusterRoutes } from "../routes/cluster.ts";
import type { Module, ModuleContext } from "./types.ts";

/** Thrown at start for a cluster/edge config that cannot work. */
export class ClusterConfigError extends Error {
  override name = "ClusterConfigError";
  constructor(readonly key: string, message: string) {
    super(`${key}: ${message}`);
  }
}

function baseUrl(scheme: string, listen: string): string {
  const addr = parseListen(listen);
  if (!addr) return "";
  const host = !addr.hostname || addr.hostname === "::" || addr.hostname === "0.0.0.0" ? "127.0.0.1" : addr.hostname;
  return `${scheme}://${host.includes(":") ? `[${host}]` : host}:${addr.port}`;
}

/**
 * `cluster.load_balancer`: new viewers whose chosen node is another one get a redirect there (HTTP
 * 307, RTSP 302, WHEP 307); a WebRTC viewer signalled over `/api/ws` gets its session from that
 * node through this one, with `authorization` (the cluster account) there. Sticky clients are
 * remembered per node, not per protocol. Returns what undoes it.
 */
function balanceViewers(
  ctx: ModuleContext,
  cluster: ClusterConfig,
  member: { viewerTargets(stream: string): Array<BalancerNode & { api: string; rtsp: string }> },
  authorization?: string,
): () => void {
  const balancer = new ViewerBalancer({
    algorithm: cluster.load_balancer.algorithm,
    sticky: cluster.session_sticky,
    stickySeconds: cluster.session_timeout,
  });
  if (!balancer.enabled || !ctx.viewerRedirect) return () => {};
  const target = (stream: string, client: string | undefined) => {
    const chosen = balancer.pick(member.viewerTargets(stream), client);
    return chosen && !chosen.self ? chosen : undefined;
  };
  const redirect = ctx.viewerRedirect;
  redirect.http = (stream, client) => target(stream, client)?.api;
  redirect.rtsp = (stream, client) => target(stream, client)?.rtsp || undefined;
  redirect.webrtc = (stream, client) => {
    const api = target(stream, client)?.api;
    return api ? { api, authorization } : undefined;
  };
  return () => {
    redirect.http = redirect.rtsp = redirect.webrtc = undefined;
  };
}

/**
 * Joins the cluster or sets up edge mode, when configured.
 *
 * @example
 * ```yaml
 * cluster:
 *   node: node-1
 *   nats: nats://10.0.0.1:4222
 *   advertise: { api: "http://10.0.0.2:1984", rtsp: "rtsp://10.0.0.2:8554" }
 * ```
 */
export const clusterModule: Module = {
  name: "cluster",
  async init(ctx, app) {
    let node: ClusterNode | StaticClusterNode | undefined;
    let self: ((host: string) => NodeAnnouncement) | undefined;
    clusterRoutes(app, () => node?.info(), (host) => self?.(host));
    const cluster = ctx.config.cluster;
    const edge = edgeSettings(ctx.config);
    const origin = edge?.origin;
    const on = cluster?.enabled !== false;
    const listed = on && !!cluster && cluster.nodes.length > 0;
    const clustered = on && !!cluster && cluster.nats.length > 0;
    if (listed && clustered) {
      throw new ClusterConfigError("cluster.nodes", "and cluster.nats are two ways to form a cluster; keep one of them.");
    }
    if (cluster?.enabled === true && !listed && !clustered) {
      throw new ClusterConfigError("cluster.enabled", "is true but neither cluster.nodes nor cluster.nats says who the other nodes are.");
    }
    if (ctx.config.edge?.enabled === true && !edge) {
      throw new ClusterConfigError("edge.enabled", "is true but neither edge.central_server nor edge.origin says where the streams come from.");
    }
    if ((listed || clustered) && edge?.centrals.length) {
      throw new ClusterConfigError(
        "edge.central_server",
        "is for an edge outside a cluster; in a cluster give edge.origin a node name or the origin's RTSP URL.",
      );
    }
    if (!clustered && !listed && !edge) return;
    const log = ctx.log.child({ module: "cluster" });
    // edge.cache: streams stay pulled for its ttl after their last viewer (the hub's grace period,
    // set in server.ts); their cached pictures together stay within its size. Started once the
    // config is known to work, so a failed start leaves no timer.
    const boundCache = (): () => void => {
      if (edge?.graceMs === undefined || edge.cacheBytes <= 0) return () => {};
      const bound = new CacheBound(ctx.hub, edge.cacheBytes, log);
      const timer = setInterval(() => bound.sweep(), 1000);
      return () => clearInterval(timer);
    };

    if (listed) {
      let nodes: ListedNode[];
      let me: ListedNode;
      try {
        nodes = listedNodes(cluster.nodes);
        me = findSelf(nodes, cluster.node, ctx.config.api.listen ?? "");
      } catch (error) {
        if (error instanceof NodeListError) throw new ClusterConfigError(error.key, error.message.slice(error.key.length + 2));
        throw error;
      }
      if (origin && !origin.includes("://") && !nodes.some((n) => n.name === origin)) {
        throw new ClusterConfigError("edge.origin", `"${origin}" is not in cluster.nodes; name a listed node or give the origin's RTSP URL.`);
      }
      const { nodeAuthorization, StaticClusterNode } = await import("../cluster/static_node.ts");
      const member = new StaticClusterNode({
        hub: ctx.hub,
        config: cluster,
        nodes,
        self: me,
        streams: () => ctx.config.streams ?? {},
        rtspPort: parseListen(ctx.config.rtsp.listen ?? "")?.port ?? 0,
        edgeOrigin: origin,
        log,
      });
      node = member;
      self = (host) => member.announcement(host);
      // Listed nodes reach each other's API with the cluster account (NATS's credentials are NATS's).
      const stopBalancing = balanceViewers(ctx, cluster, member, nodeAuthorization(cluster));
      member.holdStreams();
      await member.start();
      const stopCacheBound = boundCache();
      return {
        async close() {
          stopCacheBound();
          stopBalancing();
          await member.close();
        },
      };
    }

    if (!clustered) {
      // Edge outside a cluster: every stream is read from the origin URL or the central server, and
      // reconnects with the stream's backoff when it drops (viewers stay attached meanwhile).
      if (origin && !origin.includes("://")) {
        throw new ClusterConfigError("edge.origin", `"${origin}" is a node name, which needs a cluster; give the origin's RTSP URL instead (rtsp://host:8554).`);
      }
      let runner: EdgeRunner;
      try {
        runner = new EdgeRunner({ hub: ctx.hub, settings: edge!, configured: () => Object.keys(ctx.config.streams ?? {}), log });
      } catch (error) {
        if (error instanceof CentralUrlError) throw new ClusterConfigError("edge.central_server", error.message.slice("edge.central_server: ".length));
        throw error;
      }
      if (origin) log.info("edge mode: streams are pulled from the origin", { origin: withoutUserinfo(origin) });
      await runner.start();
      const stopCacheBound = boundCache();
      return {
        async close() {
          stopCacheBound();
          await runner.close();
        },
      };
    }
    if (!cluster.node) throw new ClusterConfigError("cluster.node", "is required with cluster.nats; give each node a unique name.");

    const { ClusterNode } = await import("../cluster/node.ts");
    const member = new ClusterNode({
      hub: ctx.hub,
      config: cluster,
      streams: () => ctx.config.streams ?? {},
      defaults: { api: baseUrl("http", ctx.config.api.listen ?? ""), rtsp: baseUrl("rtsp", ctx.config.rtsp.listen ?? "") },
      edgeOrigin: origin,
      log,
    });
    node = member;
    self = () => member.announcement();
    const stopBalancing = balanceViewers(ctx, cluster, member);
    member.holdStreams();
    const abort = new AbortController();
    // Join in the background (NATS may come up later); wait a bounded time for the first decision so
    // a node that starts with NATS up serves its streams as soon as it says it is listening.
    const joined = (async () => {
      for (let attempt = 0; !abort.signal.aborted; attempt++) {
        try {
          await member.start();
          return;
        } catch (error) {
          if (abort.signal.aborted) return;
          log.warn("cannot join the cluster yet; streams stay unplayed until NATS answers", {
            nats: cluster.nats,
            error: (error as Error).message,
          });
          await abortableSleep(Math.min(1000 * 2 ** attempt, 10_000), abort.signal).catch(() => {});
        }
      }
    })();
    const waited = new AbortController();
    await Promise.race([joined, abortableSleep(10_000, waited.signal).catch(() => {})]);
    waited.abort();
    const stopCacheBound = boundCache();
    return {
      async close() {
        stopCacheBound();
        stopBalancing();
        abort.abort();
        await member.close();
      },
    };
  },
};
