// Counts of a test process's open sockets, pipes, timers and child processes, from
// process.getActiveResourcesInfo() (Node and Deno; Bun reports nothing, so leak tests skip there
// with `it.skipIf(!resourcesMeasurable)`).

const info = (process as { getActiveResourcesInfo?: () => string[] }).getActiveResourcesInfo;
// Probe with a live timer: an idle process legitimately reports nothing.
const probeTimer = setTimeout(() => {}, 1000);
/** Whether this runtime reports its open resources (false on Bun). */
export const resourcesMeasurable: boolean = typeof info === "function" && info().length > 0;
clearTimeout(probeTimer);

/** Open sockets, pipes, timers and processes now, by kind. */
export function resources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of info!()) {
    if (/TCP|UDP|Pipe|Timeout|Timer|Process/i.test(name)) counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

/**
 * The kinds of resource there are more of now than `before`, as sorted JSON (`"[]"` when none grew;
 * earlier tests' timers may have ended meanwhile, so fewer is fine).
 */
export function grownSince(before: Record<string, number>): string {
  const now = resources();
  return JSON.stringify(Object.entries(now).filter(([k, n]) => n > (before[k] ?? 0)).sort());
}
