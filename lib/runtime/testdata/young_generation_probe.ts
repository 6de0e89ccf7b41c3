/**
 * Child process of v8_heap_test.ts: calls `capYoungGeneration()` (STROM_MAX_SEMI_SPACE_MB from the
 * environment), then allocates as a busy server does for 2 s (short-lived objects, some surviving a
 * few collections, yielding to the event loop between bursts), and prints what the cap did and how
 * large V8's new space grew.
 */
import * as v8 from "node:v8";
import { capYoungGeneration } from "../v8_heap.ts";

const cap = capYoungGeneration();
let survivors: Uint8Array[] = [];
let maxNewSpace = 0;
const until = Date.now() + 2000;

function burst(): void {
  for (let i = 0; i < 2_000; i++) {
    survivors.push(new Uint8Array(64));
    if (survivors.length > 40_000) survivors = survivors.slice(20_000);
  }
  const newSpace = v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space");
  maxNewSpace = Math.max(maxNewSpace, newSpace?.space_size ?? 0);
  if (Date.now() < until) {
    setImmediate(burst);
    return;
  }
  if (cap.applied) cap.stop();
  console.log(JSON.stringify({ applied: cap.applied, maxNewSpaceMB: maxNewSpace / 2 ** 20 }));
}
burst();
