/**
 * The preload module: for each `preload: {<stream>: <query>}` entry, keeps the stream's sources
 * running with a {@link PreloadConsumer}. A camera that is down (also at start-up) is dialed again
 * with backoff until it answers, and reconnected while preloaded if it drops later.
 *
 * @module
 */
import { PreloadConsumer } from "../../lib/protocol/preload/mod.ts";
import type { Module } from "./types.ts";

/**
 * Starts preloading the configured streams.
 *
 * @example
 * ```yaml
 * preload:
 *   front_door: "video&audio"
 *   garage: "video=h264"
 * ```
 */
export const preloadModule: Module = {
  name: "preload",
  init(ctx) {
    const entries = Object.entries(ctx.config.preload ?? {});
    if (entries.length === 0) return Promise.resolve();
    const log = ctx.log.child({ module: "preload" });
    const abort = new AbortController();
    const running: { stream: string; consumer: PreloadConsumer }[] = [];
    for (const [name, query] of entries) {
      const stream = ctx.hub.get(name);
      if (!stream) {
        log.warn(`preload: stream "${name}" is not configured under streams:; skipped`);
        continue;
      }
      const consumer = new PreloadConsumer(query ?? "");
      running.push({ stream: name, consumer });
      stream.addConsumer(consumer, { retry: { signal: abort.signal } }).then(
        () => log.info("preloading", { stream: name }),
        (error) => {
          if (!abort.signal.aborted) log.warn("preload failed", { stream: name, error: (error as Error).message });
        },
      );
    }
    return Promise.resolve({
      async close() {
        abort.abort();
        for (const { stream, consumer } of running) await ctx.hub.get(stream)?.removeConsumer(consumer);
      },
    });
  },
};
