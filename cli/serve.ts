/**
 * `strom serve -c strom.yaml [-c more]`: runs the server until SIGINT/SIGTERM or `POST /api/exit`;
 * `POST /api/restart` starts it again from the config files.
 *
 * @module
 */
import { Command } from "commander";
import { runServer } from "../server/server.ts";
import { CliError } from "./errors.ts";
import { capYoungGeneration, tuneHeapGrowing } from "../lib/runtime/v8_heap.ts";
import { limitJscHeapGrowth } from "../lib/runtime/jsc_heap.ts";
import { trimMallocPeriodically } from "../lib/runtime/malloc_trim.ts";
import { configOption } from "./options.ts";

/**
 * The `serve` subcommand (also the default when no subcommand is given, as `go2rtc -c file`).
 *
 * @example
 * ```ts
 * program.addCommand(serveCommand(), { isDefault: true });
 * ```
 */
export function serveCommand(): Command {
  return new Command("serve")
    .description("start the server (HTTP API, and the RTSP/WebRTC/... modules the config enables)")
    .addOption(configOption())
    .option("--listen <address>", 'HTTP API address, overrides api.listen (e.g. "127.0.0.1:1984", ":0")')
    .action(async (opts: { config: string[]; listen?: string }) => {
      // A long-running server: V8's old generation may grow to 2x what survived (lib/runtime/v8_heap.ts).
      tuneHeapGrowing();
      // ... and its young generation stays at 8 MB per semi-space instead of 16 (the same file).
      capYoungGeneration();
      // On Bun: a full collection after every 16 MB the heap grew (lib/runtime/jsc_heap.ts).
      await limitJscHeapGrowth();
      // On Deno (glibc): free C heap pages go back to the system every second (lib/runtime/malloc_trim.ts).
      trimMallocPeriodically();
      // Until stopped for good: POST /api/restart starts it again from the config files.
      const code = await runServer({ configSources: opts.config, listen: opts.listen });
      if (code !== 0) throw new CliError(`stopped by POST /api/exit?code=${code}`, code);
    });
}
