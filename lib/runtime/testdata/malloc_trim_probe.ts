/**
 * Child process of malloc_trim_test.ts, run by Deno with `--v8-flags=--expose-gc`: calls
 * `trimMallocPeriodically()` (STROM_MALLOC_TRIM_MS from the environment), then fills glibc's heap
 * with 80 MB of 4 KB buffers, keeps every 50th (so the free pages sit below live ones, where glibc
 * does not give them back by itself), lets the rest go, and prints RSS before and after one
 * `trimNow()`.
 */
import { trimMallocPeriodically } from "../malloc_trim.ts";

const trim = trimMallocPeriodically();
const rssMB = () => Deno.memoryUsage().rss / 2 ** 20;
let bufs: Uint8Array[] = [];
for (let i = 0; i < 20_000; i++) bufs.push(new Uint8Array(4096).fill(i & 0xff));
const kept = bufs.filter((_, i) => i % 50 === 0);
bufs = [];
const gc = (globalThis as { gc?: () => void }).gc;
for (let i = 0; i < 2; i++) {
  gc?.();
  await new Promise((r) => setTimeout(r, 250)); // V8 frees the buffers' memory off the main thread
}
const before = rssMB();
const released = trim.applied ? trim.trimNow() : -1;
const after = rssMB();
if (trim.applied) trim.stop();
console.log(JSON.stringify({
  applied: trim.applied,
  reason: trim.applied ? undefined : trim.reason,
  periodMs: trim.applied ? trim.periodMs : undefined,
  intact: kept.every((b, j) => b[4095] === ((j * 50) & 0xff)),
  released,
  beforeMB: before,
  afterMB: after,
}));
