/**
 * One node of a cluster listed in `cluster.nodes` (the go2rtc seed article's form): no NATS, the
 * nodes check each other over HTTP.
 *
 * Every `load_balancer.check_interval` the node asks each other listed node for its
 * `load_balancer.health_check` path and for `GET /api/cluster/node` (name, RTSP address, load, the
 * streams it has and those it pulls). A node that fails `failover_threshold` checks in a row is down.
 *
 * Ownership needs no shared store:
 * - a stream that a live node says it pulls stays with it (so a node that comes back does not take
 *   its streams back); if two say so (after a split), the one with the higher rendezvous score keeps
 *   it and the other lets go at its next check;
 * - a stream nobody pulls goes to the weighted rendezvous-hash winner among the live nodes that have
 *   it (see placement.ts): every node computes the same winner from the same list, and only that node
 *   starts pulling. The others relay from it once it says it pulls the stream. While a listed node
 *   has not been heard from yet (starting up), a stream it would win waits for it.
 *
 * Non-owners relay the stream from the owner's RTSP, one upstream per node and stream, as on NATS.
 *
 * @module
 */
import type { StreamHub } from "../../lib/core/hub.ts";
import type { Logger } from "../../lib/core/log.ts";
import { redactUrl, withoutUserinfo } from "../../lib/core/redact.ts";
import type { ClusterConfig } from "../config/types.ts";
import type { BalancerNode } from "./balancer.ts";
import type { ClusterInfo, NodeAnnouncement } from "./node.ts";
import type { ListedNode } from "./node_list.ts";
import { rendezvousOwner, rendezvousScore } from "./placement.ts";
import { hubLoad, peerRtspBase, pointStreams, rtspBase } from "./point.ts";
import { relayUrl } from "./relay_url.ts";

/** Options of {@link StaticClusterNode}. */
export interface StaticClusterNodeOptions {
  hub: StreamHub;
  config: ClusterConfig;
  /** Every listed node (this one included), parsed. */
  nodes: readonly ListedNode[];
  /** This node's entry. */
  self: ListedNode;
  /** The configured sources by stream (read on every check, so API changes are followed). */
  streams: () => Record<string, string[]>;
  /** This node's RTSP port (0: no RTSP server, so it cannot be the owner others relay from). */
  rtspPort: number;
  /** `edge.origin` as a node name or URL: this node pulls every stream from there and owns none. */
  edgeOrigin?: string;
  log: Logger;
  /** For tests: the fetch used for checks. */
  fetch?: typeof fetch;
}

/** A listed node as this one sees it. */
interface Peer {
  entry: ListedNode;
  /** unknown: not heard from since start; up; down: failed `failover_threshold` checks in a row. */
  state: "unknown" | "up" | "down";
  fails: number;
  info?: NodeAnnouncement;
  /** The last failure, for the log and `/api/cluster`. */
  error?: string;
}

/**
 * The `Authorization` header this node uses on the other listed nodes' API (health checks, WebRTC
 * viewers balanced there): Basic with `cluster.username`/`password`, or none without a username.
 *
 * @example
 * ```ts
 * nodeAuthorization({ username: "node", password: "secret" }); // "Basic bm9kZTpzZWNyZXQ="
 * ```
 */
export function nodeAuthorization(config: Pick<ClusterConfig, "username" | "password">): string | undefined {
  return config.username ? `Basic ${btoa(`${config.username}:${config.password}`)}` : undefined;
}

/**
 * A running member of a `cluster.nodes` cluster.
 *
 * @example
 * ```ts
 * const nodes = listedNodes(config.cluster.nodes);
 * const node = new StaticClusterNode({ hub, config: config.cluster, nodes, self: findSelf(nodes, "", ":1984"),
 *   streams: () => config.streams, rtspPort: 8554, log });
 * await node.start();
 * node.info().streams; // { front_door: "node-2" }
 * ```
 */
export class StaticClusterNode {
  readonly name: string;
  readonly #o: StaticClusterNodeOptions;
  readonly #log: Logger;
  readonly #peers = new Map<string, Peer>();
  /** Streams this node pulls from their cameras. */
  readonly #owned = new Set<string>();
  readonly #owners = new Map<string, string>();
  readonly #intervalMs: number;
  readonly #fetch: typeof fetch;
  readonly #badAddress = new Set<string>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #checking: Promise<void> = Promise.resolve();
  #closed = false;
  #ready = false;
  readonly #abort = new AbortController();

  constructor(options: StaticClusterNodeOptions) {
    this.#o = options;
    this.name = options.self.name;
    this.#log = options.log;
    this.#intervalMs = Math.max(100, options.config.load_balancer.check_interval * 1000);
    this.#fetch = options.fetch ?? fetch;
    for (const entry of options.nodes) {
      if (entry.name !== this.name) this.#peers.set(entry.name, { entry, state: "unknown", fails: 0 });
    }
  }

  /** Whether the first check has run and the streams are pointed. */
  get ready(): boolean {
    return this.#ready;
  }

  /** Runs the first check of every node and points the streams; then checks on its interval. */
  async start(): Promise<void> {
    this.#log.info("cluster of listed nodes", {
      node: this.name,
      nodes: this.#o.nodes.map((n) => n.name),
      check_interval_s: this.#intervalMs / 1000,
      failover_threshold: this.#o.config.load_balancer.failover_threshold,
    });
    await this.#check();
    this.#schedule();
  }

  #schedule(): void {
    if (this.#closed) return;
    // While a node has not answered since start, look again soon: its streams wait for it.
    const pending = [...this.#peers.values()].some((p) => p.state === "unknown");
    const delay = pending ? Math.min(this.#intervalMs, 1000) : this.#intervalMs;
    this.#timer = setTimeout(() => {
      this.#checking = this.#check().finally(() => this.#schedule());
    }, delay);
  }

  #configured(): Record<string, string[]> {
    if (this.#o.edgeOrigin) return {};
    const out: Record<string, string[]> = {};
    for (const [name, sources] of Object.entries(this.#o.streams())) if (sources.length > 0) out[name] = sources;
    return out;
  }

  /**
   * This node as `GET /api/cluster/node` gives it. `host` is the host the asking node reached this
   * one at: the RTSP address is built from it unless `advertise.rtsp` says otherwise.
   */
  announcement(host: string): NodeAnnouncement {
    return {
      name: this.name,
      api: this.#o.self.api,
      rtsp: this.#rtspAt(host),
      weight: this.#o.self.weight,
      load: hubLoad(this.#o.hub),
      streams: [...this.#owned],
      configured: Object.keys(this.#configured()),
      ...(this.#o.edgeOrigin ? { edge: true } : {}),
    };
  }

  /** This node's RTSP base URL for a client that reached it at `host` (`advertise.rtsp` wins), no credentials. */
  #rtspAt(host: string): string {
    const advertised = this.#o.config.advertise.rtsp;
    if (advertised) return withoutUserinfo(advertised);
    if (this.#o.rtspPort <= 0) return "";
    return `rtsp://${host.includes(":") && !host.startsWith("[") ? `[${host}]` : host}:${this.#o.rtspPort}`;
  }

  async #check(): Promise<void> {
    if (this.#closed) return;
    await Promise.all([...this.#peers.values()].map((peer) => this.#checkPeer(peer)));
    if (this.#closed) return;
    this.#decide();
    this.#ready = true;
    this.#point();
  }

  async #checkPeer(peer: Peer): Promise<void> {
    const lb = this.#o.config.load_balancer;
    const authorization = nodeAuthorization(this.#o.config);
    const headers: Record<string, string> = authorization ? { authorization } : {};
    const timeoutMs = Math.max(1000, Math.min(this.#intervalMs, 5000));
    const get = async (path: string): Promise<Response> => {
      const signal = AbortSignal.any([this.#abort.signal, AbortSignal.timeout(timeoutMs)]);
      return await this.#fetch(peer.entry.api + path, { headers, signal, redirect: "manual" });
    };
    let error: string | undefined;
    let info: NodeAnnouncement | undefined;
    try {
      const [health, node] = await Promise.all([get(lb.health_check), get("/api/cluster/node")]);
      if (health.status < 200 || health.status > 299) {
        error = `${lb.health_check} answered HTTP ${health.status}`;
        await node.body?.cancel();
      } else if (!node.ok) {
        error = `/api/cluster/node answered HTTP ${node.status}` +
          (node.status === 401 || node.status === 403 ? " (set cluster.username and cluster.password to an account on that node)" : "");
        await node.body?.cancel();
      } else {
        const body = await node.json() as NodeAnnouncement;
        if (body?.name !== peer.entry.name) error = `the node at ${peer.entry.api} says it is "${body?.name}", not "${peer.entry.name}"`;
        else info = body;
      }
      await health.body?.cancel().catch(() => {});
    } catch (e) {
      error = (e as Error).name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : (e as Error).message;
    }
    if (this.#closed) return;
    if (info) {
      if (peer.state !== "up") this.#log.info("cluster node up", { node: peer.entry.name, api: peer.entry.api });
      peer.state = "up";
      peer.fails = 0;
      peer.info = info;
      peer.error = undefined;
      return;
    }
    peer.fails++;
    peer.error = error;
    if (peer.fails >= this.#o.config.load_balancer.failover_threshold && peer.state !== "down") {
      this.#log.warn(peer.state === "up" ? "cluster node down; its streams move" : "cluster node not reachable", {
        node: peer.entry.name,
        api: peer.entry.api,
        failed_checks: peer.fails,
        error,
      });
      peer.state = "down";
    } else if (peer.state === "up") {
      this.#log.debug("cluster node check failed", { node: peer.entry.name, failed_checks: peer.fails, error });
    }
  }

  /** Live nodes (this one included) with what they say. */
  #live(): NodeAnnouncement[] {
    const out: NodeAnnouncement[] = [this.announcement("127.0.0.1")];
    for (const peer of this.#peers.values()) if (peer.state === "up" && peer.info) out.push(peer.info);
    return out;
  }

  #decide(): void {
    const live = this.#live();
    const pending = [...this.#peers.values()].filter((p) => p.state === "unknown").map((p) => p.entry);
    this.#owners.clear();
    for (const stream of Object.keys(this.#configured())) {
      const claimants = live.filter((n) => !n.edge && n.streams.includes(stream) && n.configured.includes(stream));
      if (claimants.length > 0) {
        let keeper = claimants[0];
        for (const c of claimants) {
          const better = rendezvousScore(stream, c.name, c.weight) - rendezvousScore(stream, keeper.name, keeper.weight);
          if (better > 0 || (better === 0 && c.name < keeper.name)) keeper = c;
        }
        if (keeper.name !== this.name && this.#owned.delete(stream)) {
          this.#log.info("stream pulled by two nodes; leaving it to the other", { stream, node: keeper.name });
        }
        this.#owners.set(stream, keeper.name);
        continue;
      }
      const candidates = [
        ...live.filter((n) => !n.edge && n.configured.includes(stream)),
        // Not heard from yet: assume it has the same streams (the same config), and wait for it.
        ...pending,
      ];
      const winner = rendezvousOwner(stream, candidates);
      if (winner === this.name) {
        this.#owned.add(stream);
        this.#log.info("owns stream", { stream });
        this.#owners.set(stream, this.name);
      }
      // Another node wins: it is the owner once it says it pulls the stream (next check). Until then
      // the stream keeps its sources, so its viewers are not moved to a node not serving it yet.
    }
    for (const stream of this.#owned) if (!this.#owners.has(stream)) this.#owned.delete(stream);
  }

  /** The sources a stream should have now, or undefined to leave it as it is. */
  #desired(stream: string, sources: string[]): string[] | undefined {
    if (this.#o.edgeOrigin) {
      const origin = this.#o.edgeOrigin;
      const base = origin.includes("://") ? origin : this.#peerRtsp(origin);
      return base ? [`${relayUrl(base, stream)}${origin.includes("://") ? "" : "?cluster_hop=1"}`] : undefined;
    }
    const owner = this.#owners.get(stream);
    if (!owner) return this.#ready ? undefined : [];
    if (owner === this.name) return sources;
    const rtsp = this.#peerRtsp(owner);
    // Marked as balanced already: the owner's load balancer must not send a relay back here.
    return rtsp ? [`${relayUrl(rtsp, stream)}?cluster_hop=1`] : undefined;
  }

  /** A peer's RTSP base URL, with this node's cluster account added for the relay. */
  #peerRtsp(node: string): string | undefined {
    const base = peerRtspBase(node, this.#peers.get(node)?.info?.rtsp, this.#badAddress, this.#log);
    if (!base) return undefined;
    const { username, password } = this.#o.config;
    if (!username || /^rtsps?:\/\/[^/]*@/i.test(base)) return base;
    return base.replace(/^(rtsps?:\/\/)/i, `$1${encodeURIComponent(username)}:${encodeURIComponent(password)}@`);
  }

  #point(): void {
    if (this.#closed) return;
    const entries = this.#o.edgeOrigin ? Object.entries(this.#o.streams()) : Object.entries(this.#configured());
    pointStreams(this.#o.hub, entries, (name, sources) => this.#desired(name, sources), this.#log);
  }

  /**
   * Nodes that can serve `stream` to a viewer now: this one (when it has the stream) and every live
   * node that has it, with where viewers reach them (RTSP without credentials).
   */
  viewerTargets(stream: string): Array<BalancerNode & { api: string; rtsp: string }> {
    const out: Array<BalancerNode & { api: string; rtsp: string }> = [];
    if (this.#o.hub.get(stream)) {
      const self = this.#o.self;
      out.push({ name: this.name, weight: self.weight, load: hubLoad(this.#o.hub), self: true, api: self.api, rtsp: this.#rtspAt(self.host) });
    }
    for (const peer of this.#peers.values()) {
      const info = peer.info;
      if (peer.state !== "up" || !info || info.edge || !info.configured.includes(stream)) continue;
      const rtsp = withoutUserinfo(rtspBase(info.rtsp) ?? "");
      out.push({ name: peer.entry.name, weight: peer.entry.weight, load: info.load, api: peer.entry.api, rtsp });
    }
    return out;
  }

  /** Holds every stream with no sources until the first check, so no camera is dialed twice. */
  holdStreams(): void {
    if (this.#o.edgeOrigin) return;
    for (const name of Object.keys(this.#configured())) {
      const stream = this.#o.hub.get(name);
      if (stream) stream.sources = [];
    }
  }

  /** `GET /api/cluster` JSON: live nodes, and `down` for listed nodes not reachable now. */
  info(): ClusterInfo {
    const nodes: ClusterInfo["nodes"] = [];
    for (const i of this.#live()) {
      const rtsp = i.name === this.name ? (this.#o.config.advertise.rtsp || "") : i.rtsp;
      nodes.push({
        name: i.name,
        api: i.name === this.name ? this.#o.self.api : this.#peers.get(i.name)!.entry.api,
        rtsp: redactUrl(rtsp),
        weight: i.weight,
        load: i.load,
        streams: [...this.#owners].filter(([, o]) => o === i.name).map(([s]) => s),
        ...(i.edge ? { edge: true } : {}),
        ...(i.name === this.name ? { self: true } : {}),
      });
    }
    nodes.sort((a, b) => a.name.localeCompare(b.name));
    const down = [...this.#peers.values()].filter((p) => p.state !== "up").map((p) => ({
      name: p.entry.name,
      api: p.entry.api,
      state: p.state as "unknown" | "down",
      failed_checks: p.fails,
      ...(p.error ? { error: p.error } : {}),
    }));
    return { node: this.name, mode: "nodes", nats: { connected: false }, nodes, down, streams: Object.fromEntries(this.#owners) };
  }

  /** Stops checking. Streams keep their sources; the server closes them. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort();
    if (this.#timer) clearTimeout(this.#timer);
    await this.#checking.catch(() => {});
  }
}
