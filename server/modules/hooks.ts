/**
 * The hooks module: subscribes to the hub's events (stream ready/not ready, readers, publishers,
 * source errors, finished recording segments) and runs the commands and webhooks of `hooks:` for
 * them, in the background (see server/hooks/runner.ts). Listed first so it sees the other modules'
 * events from their start.
 *
 * @module
 */
import { HookRunner } from "../hooks/runner.ts";
import type { Module } from "./types.ts";

/**
 * The built-in hooks module.
 *
 * @example
 * ```ts
 * export const builtinModules = [hooksModule, rtspModule, recordModule];
 * ```
 */
export const hooksModule: Module = {
  name: "hooks",
  // deno-lint-ignore require-await
  async init(ctx) {
    if (!ctx.config.hooks) return;
    const log = ctx.log.child({ module: "hooks" });
    const runner = new HookRunner(ctx.config.hooks, log);
    if (runner.empty) return;
    const off = ctx.hub.events.on((event) => runner.handle(event));
    return {
      close: async () => {
        off();
        await runner.close();
      },
    };
  },
};
