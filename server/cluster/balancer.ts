/**
 * `cluster.load_balancer.algorithm`: which node a new viewer is sent to. Every node of a cluster
 * serves every stream (non-owners relay from the owner), so a viewer may be served anywhere; this
 * spreads viewers over the nodes by their weight, and `session_sticky` keeps a client (by IP) on the
 * node it was first sent to.
 *
 * @module
 */

/** A node a viewer may be sent to. */
export interface BalancerNode {
  name: string;
  weight: number;
  /** Viewers and relays now (for other nodes: as of their last check). */
  load: number;
  /** This node: a viewer sent here is served without a redirect. */
  self?: boolean;
}

/** Options of {@link ViewerBalancer}. */
export interface ViewerBalancerOptions {
  algorithm: "least-connections" | "round-robin" | "none";
  sticky: boolean;
  /** Seconds a sticky client is remembered after its last request. */
  stickySeconds: number;
  /** Most clients remembered; the least recently seen are forgotten first. Default 10 000. */
  maxClients?: number;
  now?: () => number;
}

/**
 * Chooses a node for each new viewer.
 *
 * @example
 * ```ts
 * const balancer = new ViewerBalancer({ algorithm: "least-connections", sticky: true, stickySeconds: 3600 });
 * balancer.pick([{ name: "a", weight: 1, load: 5, self: true }, { name: "b", weight: 1, load: 1 }], "10.0.0.7")?.name; // "b"
 * ```
 */
export class ViewerBalancer {
  readonly #o: ViewerBalancerOptions;
  readonly #now: () => number;
  /** Smooth weighted round-robin state (nginx's): each node's current weight. */
  readonly #current = new Map<string, number>();
  /** Viewers sent to a node since its load was last reported, by the load they were counted on. */
  readonly #sent = new Map<string, { load: number; count: number }>();
  /** Client IP -> node, in order of last use (a Map keeps insertion order). */
  readonly #clients = new Map<string, { node: string; seen: number }>();

  constructor(options: ViewerBalancerOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  /** Whether viewers are balanced at all. */
  get enabled(): boolean {
    return this.#o.algorithm !== "none";
  }

  /**
   * The node for a new viewer from `client` among `nodes` (live, able to serve the stream), or
   * undefined when balancing is off or there is no node.
   */
  pick<T extends BalancerNode>(nodes: readonly T[], client: string | undefined): T | undefined {
    if (!this.enabled || nodes.length === 0) return undefined;
    const now = this.#now();
    if (this.#o.sticky && client) {
      const known = this.#clients.get(client);
      if (known && now - known.seen <= this.#o.stickySeconds * 1000) {
        const node = nodes.find((n) => n.name === known.node);
        if (node) {
          this.#remember(client, node.name, now);
          return node;
        }
      }
    }
    const node = this.#o.algorithm === "round-robin" ? this.#roundRobin(nodes) : this.#leastConnections(nodes);
    if (!node.self) {
      const sent = this.#sent.get(node.name);
      this.#sent.set(node.name, sent && sent.load === node.load ? { load: node.load, count: sent.count + 1 } : { load: node.load, count: 1 });
    }
    if (this.#o.sticky && client) this.#remember(client, node.name, now);
    return node;
  }

  // Fewest viewers per unit of weight; another node's load counts the viewers sent there since it
  // was last reported (so a burst of viewers does not all go to the node that looked emptiest).
  // Ties stay on this node, then go to the lower name.
  #leastConnections<T extends BalancerNode>(nodes: readonly T[]): T {
    let best = nodes[0];
    let bestScore = Infinity;
    for (const node of nodes) {
      const sent = this.#sent.get(node.name);
      const load = node.load + (!node.self && sent && sent.load === node.load ? sent.count : 0);
      const score = (load + 1) / (node.weight > 0 ? node.weight : 1);
      const better = score < bestScore ||
        (score === bestScore && (node.self || (!best.self && node.name < best.name)));
      if (better) {
        best = node;
        bestScore = score;
      }
    }
    return best;
  }

  #roundRobin<T extends BalancerNode>(nodes: readonly T[]): T {
    let total = 0;
    let best = nodes[0];
    let bestCurrent = -Infinity;
    for (const node of nodes) {
      const weight = node.weight > 0 ? node.weight : 1;
      total += weight;
      const current = (this.#current.get(node.name) ?? 0) + weight;
      this.#current.set(node.name, current);
      if (current > bestCurrent || (current === bestCurrent && node.name < best.name)) {
        best = node;
        bestCurrent = current;
      }
    }
    this.#current.set(best.name, bestCurrent - total);
    return best;
  }

  #remember(client: string, node: string, now: number): void {
    this.#clients.delete(client);
    this.#clients.set(client, { node, seen: now });
    const max = this.#o.maxClients ?? 10_000;
    for (const [ip, entry] of this.#clients) {
      if (this.#clients.size <= max && now - entry.seen <= this.#o.stickySeconds * 1000) break;
      this.#clients.delete(ip);
    }
  }
}
