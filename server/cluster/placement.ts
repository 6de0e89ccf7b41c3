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
