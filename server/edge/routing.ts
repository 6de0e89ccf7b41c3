/**
 * `edge.routing`: which of several central servers an edge uses, from the ones that answered and
 * how fast.
 *
 * @module
 */
import type { EdgeRoutingConfig } from "../config/types.ts";

/** A central server that answered `GET /api`: its index in `edge.central_server` and the time it took. */
export interface CentralAnswer {
  index: number;
  rttMs: number;
}

/**
 * The central to use, or undefined when none answered. `current` is the index of the central in
 * use that stopped answering (undefined at start): at start `strategy` decides, after a failure
 * `fallback`.
 *
 * @example
 * ```ts
 * chooseCentral([{ index: 0, rttMs: 40 }, { index: 2, rttMs: 3 }], 3, undefined, routing); // 2 (nearest)
 * chooseCentral([{ index: 0, rttMs: 40 }, { index: 2, rttMs: 3 }], 3, 1, { ...routing, fallback: "round-robin" }); // 2
 * ```
 */
export function chooseCentral(
  answered: readonly CentralAnswer[],
  count: number,
  current: number | undefined,
  routing: EdgeRoutingConfig,
): number | undefined {
  if (answered.length === 0) return undefined;
  const rule = current === undefined ? routing.strategy : routing.fallback;
  if (rule === "nearest") {
    let best = answered[0];
    for (const a of answered) {
      if (a.rttMs < best.rttMs || (a.rttMs === best.rttMs && a.index < best.index)) best = a;
    }
    return best.index;
  }
  // "first" from the top of the list; "round-robin" from the one after the failed central.
  const start = current === undefined ? 0 : current + 1;
  const up = new Set(answered.map((a) => a.index));
  for (let k = 0; k < count; k++) {
    const i = (start + k) % count;
    if (up.has(i)) return i;
  }
  return undefined;
}
