/**
 * Child process of jsc_heap_test.ts, run by Bun: calls `limitJscHeapGrowth()`
 * (STROM_JSC_HEAP_GROWTH_MB from the environment), then allocates as a fan-out does for 4 s: 1 MB
 * of buffers every 50 ms, each kept while 32 MB more are made, then garbage. Prints how far the
 * heap (`bun:jsc` `heapSize()`, ArrayBuffers included) grew above where it started, and what the
 * bound did.
 */
import { limitJscHeapGrowth } from "../jsc_heap.ts";

const jsc = (await import(["bun", "jsc"].join(":"))) as { heapSize(): number };
const limit = await limitJscHeapGrowth();
const start = jsc.heapSize();
const ring: Uint8Array[] = new Array(512);
let next = 0;
let peak = start;
for (let turn = 0; turn < 80; turn++) {
  for (let j = 0; j < 16; j++) ring[next++ % ring.length] = new Uint8Array(64 * 1024).fill(turn);
  await new Promise((r) => setTimeout(r, 50));
  peak = Math.max(peak, jsc.heapSize());
}
const stats = limit.applied ? limit.stats() : { collections: 0, pauseMs: 0 };
if (limit.applied) limit.stop();
console.log(JSON.stringify({
  applied: limit.applied,
  intact: ring.every((b) => b.length === 64 * 1024),
  growthMB: (peak - start) / 2 ** 20,
  collections: stats.collections,
}));
