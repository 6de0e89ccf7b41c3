/**
 * Who should own a stream: the live node configured for it with the lowest load per unit of weight
 * (least connections, weighted). Pure, so every node computes the same answer from the same view;
 * the KV compare-and-set decides when views differ.
 *
 * @module
 */

/** What placement needs to know about one node. */
export interface PlacementNode {
  name: string;
  /** Relative capacity (> 0); weight 2 takes twice the load of weight 1. */
  weight: number;
  /** Viewer and relay connections now. */
  load: number;
  /** Streams it owns now. */
  owned: number;
  /** Streams it has sources for (only those it may own). */
  configured: readonly string[];
  /** Edges never own streams. */
  edge?: boolean;
}

/**
 * The best owner for `stream` among `nodes` (already filtered to live ones): lowest
 * `(owned + load + 1) / weight`, ties broken by name so every node agrees.
 *
 * @example
 * ```ts
 * chooseOwner("cam", [
 *   { name: "a", weight: 1, load: 4, owned: 1, configured: ["cam"] },
 *   { name: "b", weight: 2, load: 4, owned: 1, configured: ["cam"] },
 * ]); // "b"
 * ```
 */
export function chooseOwner(stream: string, nodes: readonly PlacementNode[]): string | undefined {
  let best: PlacementNode | undefined;
  let bestScore = Infinity;
  for (const node of nodes) {
    if (node.edge || !node.configured.includes(stream)) continue;
    const score = (node.owned + node.load + 1) / (node.weight > 0 ? node.weight : 1);
    if (score < bestScore || (score === bestScore && best && node.name < best.name)) {
      best = node;
      bestScore = score;
    }
  }
  return best?.name;
}

/** FNV-1a (32-bit) of a string's UTF-16 code units: cheap, stable across runtimes and versions. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // A final avalanche (murmur3's fmix32), so names differing in one letter spread over the range.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Weighted rendezvous hashing (highest random weight): the node that should pull `stream` when no
 * node has it yet, from names and weights alone, so every node with the same list computes the same
 * answer without asking anyone. A node of weight 2 wins about twice as many streams as one of
 * weight 1, and when a node leaves only its own streams move.
 *
 * @example
 * ```ts
 * rendezvousOwner("cam", [{ name: "a", weight: 1 }, { name: "b", weight: 2 }]); // "a" or "b", the same everywhere
 * ```
 */
export function rendezvousOwner(stream: string, nodes: readonly { name: string; weight: number }[]): string | undefined {
  let best: string | undefined;
  let bestScore = -Infinity;
  for (const node of nodes) {
    const score = rendezvousScore(stream, node.name, node.weight);
    if (score > bestScore || (score === bestScore && best !== undefined && node.name < best)) {
      best = node.name;
      bestScore = score;
    }
  }
  return best;
}

/** A node's score for a stream: `-weight / ln(u)` with `u` in (0, 1) from the pair's hash. */
export function rendezvousScore(stream: string, node: string, weight: number): number {
  const u = (fnv1a(`${stream}\u0000${node}`) + 0.5) / 4294967296;
  return -(weight > 0 ? weight : 1) / Math.log(u);
}
