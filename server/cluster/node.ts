/**
 * One strom node in a cluster. Membership, stream ownership and load live in two JetStream KV
 * buckets (no consensus of our own):
 *
 * ```
 * <bucket>_nodes   key = node name    value = announcement {name, api, rtsp, weight, load, streams, ...}
 *                  put every `heartbeat`; the bucket's TTL (`node_ttl`) drops nodes that stop
 * <bucket>_owners  key = stream name  value = {node}; written only with create / update(revision)
 * ```
 *
 * Every tick the node re-announces itself, reads both buckets, claims streams that have no live
 * owner and for which it is the best place (weight and least connections, see placement.ts) with a
 * compare-and-set (so two nodes never both win), and points each clustered stream's sources either
 * at the camera (it owns the stream) or at the owner's RTSP URL (one upstream per node, shared by its
 * viewers). Changing a stream's sources moves its viewers to the new source without closing them
 * (see `Stream.sources`), which is how failover keeps viewers playing.
 *
 * A node counts as alive while its announcement's revision keeps changing within `node_ttl` (timed
 * with the local clock, so clocks need not agree). While NATS is unreachable nothing changes: streams
 * keep their sources, and liveness timers restart once NATS answers again.
 *
 * @module
 */
import type { StreamHub } from "../../lib/core/hub.ts";
import type { Logger } from "../../lib/core/log.ts";
import { redactUrl } from "../../lib/core/errors.ts";
import type { ClusterConfig } from "../config/types.ts";
import { kvKey, nameOfKey } from "./keys.ts";
import { type ClusterKv, connectNats, KvConflictError, type NatsLink } from "./nats.ts";
import { chooseOwner, type PlacementNode } from "./placement.ts";
import { withoutUserinfo } from "../../lib/core/redact.ts";
import type { BalancerNode } from "./balancer.ts";
import { hubLoad, isLoopbackUrl, peerRtspBase, pointStreams, viewerApiBase } from "./point.ts";
import { relayUrl } from "./relay_url.ts";

/** A node's announcement as stored in `<bucket>_nodes`. */
export interface NodeAnnouncement {
  name: string;
  /** Base URL of its HTTP API, e.g. `http://10.0.0.2:1984`. */
  api: string;
  /** Base URL of its RTSP server, e.g. `rtsp://10.0.0.2:8554` (with credentials when RTSP needs them). */
  rtsp: string;
  weight: number;
  /** Viewer and relay connections now. */
  load: number;
  /** Streams it owns (pulls from the camera). */
  streams: string[];
  /** Streams it has sources for. */
  configured: string[];
  /** An edge node: pulls from its origin, never owns. */
  edge?: boolean;
}

/** `GET /api/cluster` JSON. */
export interface ClusterInfo {
  node: string;
  /** How members find each other: NATS JetStream, or the `cluster.nodes` list checked over HTTP. */
  mode: "nats" | "nodes";
  nats: { connected: boolean };
  nodes: Array<{ name: string; api: string; rtsp: string; weight: number; load: number; streams: string[]; edge?: boolean; self?: boolean }>;
  /** Stream name -> owning node. */
  streams: Record<string, string>;
  /** `cluster.nodes` only: listed nodes that are not up now, and why. */
  down?: Array<{ name: string; api: string; state: "unknown" | "down"; failed_checks: number; error?: string }>;
}

/** Options of {@link ClusterNode}. */
export interface ClusterNodeOptions {
  hub: StreamHub;
  config: ClusterConfig;
  /** The configured sources by stream (read on every tick, so API changes are followed). */
  streams: () => Record<string, string[]>;
  /** Base URLs used when `advertise` is empty. */
  defaults: { api: string; rtsp: string };
  /** `edge.origin`: this node is an edge pulling every stream from there (a URL or a node name). */
  edgeOrigin?: string;
  log: Logger;
}

interface SeenNode {
  info: NodeAnnouncement;
  revision: number;
  seenAt: number;
}

/**
 * A running cluster member.
 *
 * @example
 * ```ts
 * const node = new ClusterNode({ hub, config: config.cluster, streams: () => config.streams,
 *   defaults: { api: "http://127.0.0.1:1984", rtsp: "rtsp://127.0.0.1:8554" }, log });
 * await node.start();
 * console.log(node.info().streams); // { front_door: "node-1" }
 * await node.close();
 * ```
 */
export class ClusterNode {
  readonly name: string;
  readonly #o: ClusterNodeOptions;
  readonly #log: Logger;
  readonly #heartbeatMs: number;
  readonly #ttlMs: number;
  readonly #fallbackTicks: number;
  readonly #badAddress = new Set<string>();
  #link: NatsLink | undefined;
  #nodesKv: ClusterKv | undefined;
  #ownersKv: ClusterKv | undefined;
  readonly #nodes = new Map<string, SeenNode>();
  readonly #owners = new Map<string, { node: string; revision: number }>();
  readonly #unownedTicks = new Map<string, { best: string | undefined; ticks: number }>();
  /** How many of this node's announcements in a row have listed each configured stream. */
  readonly #announcedCount = new Map<string, number>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #resync = false;
  /**
   * After NATS comes back, every node counts as just seen plus this long: nodes reconnect at
   * different moments (backoff, a loaded machine), and one that is a little late is not dead, so
   * its streams are not taken over.
   */
  get #resyncGraceMs(): number {
    return Math.max(this.#ttlMs, 3000);
  }
  #ticking: Promise<void> = Promise.resolve();
  #ready = false;
  #gen = 0;

  constructor(options: ClusterNodeOptions) {
    this.#o = options;
    this.name = options.config.node;
    this.#log = options.log;
    this.#heartbeatMs = Math.max(100, options.config.heartbeat * 1000);
    this.#ttlMs = Math.max(this.#heartbeatMs * 2, options.config.node_ttl * 1000);
    this.#fallbackTicks = Math.max(3, Math.ceil(this.#ttlMs / this.#heartbeatMs) + 1);
  }

  /** Whether this node has read the buckets once and set its streams' sources. */
  get ready(): boolean {
    return this.#ready;
  }

  /**
   * Connects, announces the node, waits one heartbeat so nodes starting together see each other,
   * then claims and points its streams. Rejects when NATS cannot be reached.
   */
  async start(): Promise<void> {
    const c = this.#o.config;
    this.#link = await connectNats({
      servers: c.nats,
      username: c.username,
      password: c.password,
      token: c.token,
      onConnection: (up) => {
        if (up) {
          this.#log.info("NATS connection back");
          this.#resync = true;
        } else {
          this.#log.warn("NATS connection lost; streams keep their current sources until it is back");
        }
      },
    });
    if (this.#closed) {
      // close() ran while we were connecting.
      await this.#link.close();
      return;
    }
    try {
      this.#nodesKv = await this.#link.bucket(`${c.bucket}_nodes`, { ttlMs: this.#ttlMs });
      this.#ownersKv = await this.#link.bucket(`${c.bucket}_owners`, {});
      await this.#announce();
      // The first look comes a whole heartbeat after this announcement, which nodes started
      // together have all made: the streams it lists may be claimed on that first look.
      for (const name of this.#announcedCount.keys()) this.#announcedCount.set(name, NEW_STREAM_ANNOUNCEMENTS - 1);
    } catch (error) {
      await this.#link.close();
      this.#link = undefined;
      throw error;
    }
    this.#log.info("joined the cluster", { node: this.name, nats: c.nats.map(redactUrl) });
    await new Promise((r) => setTimeout(r, this.#heartbeatMs));
    if (this.#closed) return;
    await this.#tick();
    this.#schedule();
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#ticking = this.#tick().finally(() => this.#schedule());
    }, this.#heartbeatMs);
  }

  /** Base URL of this node's RTSP server as other nodes reach it. */
  get rtspUrl(): string {
    return this.#o.config.advertise.rtsp || this.#o.defaults.rtsp;
  }

  #configured(): Record<string, string[]> {
    if (this.#o.edgeOrigin) return {};
    const out: Record<string, string[]> = {};
    for (const [name, sources] of Object.entries(this.#o.streams())) if (sources.length > 0) out[name] = sources;
    return out;
  }

  /** This node as it announces itself (also `GET /api/cluster/node`). */
  announcement(): NodeAnnouncement {
    const load = hubLoad(this.#o.hub);
    const owned = [...this.#owners].filter(([, o]) => o.node === this.name).map(([name]) => name);
    return {
      name: this.name,
      api: this.#o.config.advertise.api || this.#o.defaults.api,
      rtsp: this.rtspUrl,
      weight: this.#o.config.weight,
      load,
      streams: owned,
      configured: Object.keys(this.#configured()),
      ...(this.#o.edgeOrigin ? { edge: true } : {}),
    };
  }

  /**
   * The nodes that can serve `stream` to a new viewer now, for `cluster.load_balancer`: this node
   * when it has the stream, and every live non-edge node that has sources for it, with the load it
   * announced. Another node's API address comes from its announcement and is used only when it is
   * an http(s) URL without credentials, and a loopback one only when this node's is loopback too
   * (nodes on one machine), so a viewer is never sent to an address it cannot reach.
   *
   * @example
   * ```ts
   * const chosen = balancer.pick(node.viewerTargets("front_door"), clientIp);
   * if (chosen && !chosen.self) redirectTo(chosen.api);
   * ```
   */
  viewerTargets(stream: string): Array<BalancerNode & { api: string; rtsp: string }> {
    const out: Array<BalancerNode & { api: string; rtsp: string }> = [];
    const selfApi = this.#o.config.advertise.api || this.#o.defaults.api;
    if (this.#o.hub.get(stream)) {
      out.push({
        name: this.name,
        weight: this.#o.config.weight,
        load: hubLoad(this.#o.hub),
        self: true,
        api: selfApi,
        rtsp: withoutUserinfo(this.rtspUrl),
      });
    }
    const selfLoopback = isLoopbackUrl(selfApi);
    for (const [name, seen] of this.#nodes) {
      const info = seen.info;
      if (name === this.name || !this.#alive(name) || info.edge || !(info.configured ?? []).includes(stream)) continue;
      const api = viewerApiBase(info.api);
      if (!api || (isLoopbackUrl(api) && !selfLoopback)) continue;
      const announced = withoutUserinfo(this.#peerRtsp(name) ?? "");
      // An RTSP address a viewer cannot reach: its RTSP viewers are served here instead.
      const rtsp = announced && isLoopbackUrl(announced) && !selfLoopback ? "" : announced;
      out.push({ name, weight: info.weight, load: info.load, api, rtsp });
    }
    return out;
  }

  async #announce(): Promise<void> {
    const info = this.announcement();
    const revision = await this.#nodesKv!.put(kvKey(this.name), JSON.stringify(info));
    const listed = new Set(info.configured);
    for (const name of this.#announcedCount.keys()) if (!listed.has(name)) this.#announcedCount.delete(name);
    for (const name of info.configured) this.#announcedCount.set(name, (this.#announcedCount.get(name) ?? 0) + 1);
    this.#nodes.set(this.name, { info, revision, seenAt: Date.now() });
  }

  async #tick(): Promise<void> {
    if (this.#closed) return;
    // A NATS call can hang across a server restart: each tick is bounded, and a late answer of an
    // abandoned tick is ignored (only the newest tick applies what it read).
    const gen = ++this.#gen;
    const limitMs = Math.max(2000, this.#heartbeatMs * 2);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`NATS did not answer within ${limitMs} ms`)), limitMs);
    });
    try {
      await Promise.race([
        (async () => {
          await this.#announce();
          await this.#sync(gen);
          if (gen === this.#gen) await this.#claim();
        })(),
        timeout,
      ]);
      this.#ready = true;
    } catch (error) {
      if (this.#closed) return;
      // NATS down or slow: change nothing, look again next tick (liveness restarts then).
      this.#resync = true;
      this.#log.debug("cluster tick failed", { error: (error as Error).message });
    } finally {
      clearTimeout(timer);
    }
    this.#point();
  }

  async #sync(gen: number): Promise<void> {
    const nodeValues = await this.#nodesKv!.all();
    const ownerValues = await this.#ownersKv!.all();
    if (gen !== this.#gen) return;
    const now = Date.now();
    const resync = this.#resync;
    this.#resync = false;
    const present = new Set<string>();
    for (const v of nodeValues) {
      let info: NodeAnnouncement;
      try {
        info = JSON.parse(v.value);
      } catch {
        continue;
      }
      const name = nameOfKey(v.key);
      present.add(name);
      const seen = this.#nodes.get(name);
      if (!seen || seen.revision !== v.revision || resync) {
        this.#nodes.set(name, { info, revision: v.revision, seenAt: resync ? now + this.#resyncGraceMs : now });
      }
      else seen.info = info;
    }
    // A node missing from the bucket (its TTL ran out, or NATS restarted and expired it) stays known
    // until it has been silent for node_ttl on our clock; after a NATS outage that clock restarts.
    for (const [name, seen] of this.#nodes) {
      if (present.has(name) || name === this.name) continue;
      if (resync) seen.seenAt = now + this.#resyncGraceMs;
      else if (now - seen.seenAt > this.#ttlMs * 10) this.#nodes.delete(name);
    }
    this.#owners.clear();
    for (const v of ownerValues) {
      try {
        const { node } = JSON.parse(v.value) as { node: string };
        this.#owners.set(nameOfKey(v.key), { node, revision: v.revision });
      } catch { /* not ours */ }
    }
  }

  #alive(name: string): boolean {
    if (name === this.name) return true;
    const seen = this.#nodes.get(name);
    return !!seen && Date.now() - seen.seenAt <= this.#ttlMs;
  }

  async #claim(): Promise<void> {
    const configured = this.#configured();
    const live: PlacementNode[] = [];
    const ownedBy = new Map<string, number>();
    for (const [, o] of this.#owners) if (this.#alive(o.node)) ownedBy.set(o.node, (ownedBy.get(o.node) ?? 0) + 1);
    for (const [name, seen] of this.#nodes) {
      if (!this.#alive(name)) continue;
      live.push({
        name,
        weight: seen.info.weight,
        load: seen.info.load,
        owned: ownedBy.get(name) ?? 0,
        configured: seen.info.configured ?? [],
        edge: seen.info.edge,
      });
    }
    for (const stream of Object.keys(configured)) {
      const current = this.#owners.get(stream);
      if (current && this.#alive(current.node)) {
        this.#unownedTicks.delete(stream);
        continue;
      }
      // A stream that never had an owner (newly configured) is claimed only once this node has
      // announced it for two heartbeats, so every node given the same camera at about the same time
      // has announced it too, even with a slow tick. Otherwise the first node to notice a batch of
      // new cameras would take them all, on a view where it alone has them. A stream with an owner
      // record (handed back, or its owner lapsed) is taken at once.
      if (!current && (this.#announcedCount.get(stream) ?? 0) < NEW_STREAM_ANNOUNCEMENTS) continue;
      const best = chooseOwner(stream, live);
      const last = this.#unownedTicks.get(stream);
      const waited = last && last.best === best ? last.ticks + 1 : 1;
      this.#unownedTicks.set(stream, { best, ticks: waited });
      // The best node claims; when the same node has been the best for a node_ttl's worth of ticks
      // without claiming (stuck, or cannot write), whoever sees that claims instead.
      if (best !== this.name && waited < this.#fallbackTicks) continue;
      const value = JSON.stringify({ node: this.name });
      const key = kvKey(stream);
      try {
        const revision = current
          ? await this.#ownersKv!.update(key, value, current.revision)
          : await this.#ownersKv!.create(key, value);
        this.#owners.set(stream, { node: this.name, revision });
        this.#unownedTicks.delete(stream);
        const self = live.find((n) => n.name === this.name);
        if (self) self.owned++;
        this.#log.info(current ? "took over stream (owner's heartbeat lapsed)" : "owns stream", {
          stream,
          ...(current ? { previous: current.node } : {}),
        });
      } catch (error) {
        if (!(error instanceof KvConflictError)) throw error;
        // Another node won; its value is read next tick.
        const now = await this.#ownersKv!.get(key);
        if (now) {
          try {
            this.#owners.set(stream, { node: (JSON.parse(now.value) as { node: string }).node, revision: now.revision });
          } catch { /* read next tick */ }
        }
      }
    }
  }

  /** The sources a stream should have now, or undefined to leave it as it is. */
  #desired(stream: string, sources: string[]): string[] | undefined {
    if (this.#o.edgeOrigin) {
      const base = this.#edgeBase();
      const byName = !this.#o.edgeOrigin.includes("://");
      return base ? [`${relayUrl(base, stream)}${byName ? "?cluster_hop=1" : ""}`] : undefined;
    }
    const owner = this.#owners.get(stream);
    if (!owner) return this.#ready ? undefined : [];
    if (owner.node === this.name) return sources;
    const rtsp = this.#peerRtsp(owner.node);
    // Marked as balanced already: the owner's load balancer must not send a relay back here.
    return rtsp ? [`${relayUrl(rtsp, stream)}?cluster_hop=1`] : undefined;
  }

  #edgeBase(): string | undefined {
    const origin = this.#o.edgeOrigin!;
    if (origin.includes("://")) return origin;
    return this.#peerRtsp(origin);
  }

  // Another node's RTSP base URL from its announcement. Anyone who can write to the bucket could
  // announce anything, so only rtsp:// and rtsps:// are used (see rtspBase).
  #peerRtsp(node: string): string | undefined {
    return peerRtspBase(node, this.#nodes.get(node)?.info.rtsp, this.#badAddress, this.#log);
  }

  /** Points every clustered stream at its camera or at its owner. */
  #point(): void {
    if (this.#closed) return;
    const entries = this.#o.edgeOrigin ? Object.entries(this.#o.streams()) : Object.entries(this.#configured());
    pointStreams(this.#o.hub, entries, (name, sources) => this.#desired(name, sources), this.#log);
  }

  /**
   * Sets every clustered stream's sources to nothing until the first read of the buckets, so no
   * node dials a camera before it knows whether it owns it.
   */
  holdStreams(): void {
    if (this.#o.edgeOrigin) {
      this.#point();
      return;
    }
    for (const name of Object.keys(this.#configured())) {
      const stream = this.#o.hub.get(name);
      if (stream) stream.sources = [];
    }
  }

  /** `GET /api/cluster` JSON. */
  info(): ClusterInfo {
    const nodes: ClusterInfo["nodes"] = [];
    for (const [name, seen] of this.#nodes) {
      if (!this.#alive(name)) continue;
      const i = seen.info;
      nodes.push({
        name,
        api: i.api,
        rtsp: redactUrl(i.rtsp),
        weight: i.weight,
        load: i.load,
        streams: [...this.#owners].filter(([, o]) => o.node === name).map(([s]) => s),
        ...(i.edge ? { edge: true } : {}),
        ...(name === this.name ? { self: true } : {}),
      });
    }
    nodes.sort((a, b) => a.name.localeCompare(b.name));
    const streams: Record<string, string> = {};
    for (const [name, o] of this.#owners) streams[name] = o.node;
    return { node: this.name, mode: "nats", nats: { connected: this.#link?.connected ?? false }, nodes, streams };
  }

  /**
   * Leaves the cluster: hands back the streams it owns (others take them at their next tick instead
   * of after the TTL), removes its announcement, disconnects.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#ticking.catch(() => {});
    if (this.#link?.connected) {
      for (const [stream, o] of this.#owners) {
        if (o.node !== this.name) continue;
        await this.#ownersKv?.update(kvKey(stream), JSON.stringify({ node: "" }), o.revision).catch(() => {});
      }
      await this.#nodesKv?.delete(kvKey(this.name)).catch(() => {});
    }
    await this.#link?.close();
  }
}

/** Announcements listing a never-owned stream (this tick's included) before this node claims it. */
const NEW_STREAM_ANNOUNCEMENTS = 3;

