/**
 * `strom probe <url>`: dials a source through the registry and prints its medias and codecs as JSON.
 *
 * @module
 */
import process from "node:process";
import { Command } from "commander";
import { codecToString } from "../lib/core/codec.ts";
import type { Producer } from "../lib/core/connection.ts";
import { redactUrl } from "../lib/core/errors.ts";
import { dialSource } from "../lib/core/registry.ts";
import { registerBuiltinSources } from "../server/sources.ts";
import { CliError } from "./errors.ts";

/** What `strom probe` prints. */
export interface ProbeResult {
  url: string;
  medias: { kind: string; direction: string; id?: string; codecs: { name: string; clock_rate: number; channels?: number; fmtp?: string; text: string }[] }[];
  connection: unknown;
  probe_ms: number;
}

/**
 * Dials `url` and describes it, then stops the producer.
 *
 * @throws {CliError} when it does not answer within `timeoutMs`.
 * @example
 * ```ts
 * const result = await probe("demo:", 5000);
 * ```
 */
export async function probe(url: string, timeoutMs: number): Promise<ProbeResult> {
  registerBuiltinSources();
  const started = Date.now();
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new CliError(`Source did not answer within ${timeoutMs} ms; raise it with --timeout.`));
    }, timeoutMs);
  });
  let producer: Producer | undefined;
  try {
    producer = await Promise.race([dialSource(url, { streamName: "probe", signal: controller.signal }), timeout]);
    return {
      url: producer.info().url ?? redactUrl(url),
      medias: producer.medias().map((m) => ({
        kind: m.kind,
        direction: m.direction,
        ...(m.id ? { id: m.id } : {}),
        codecs: m.codecs.map((c) => ({
          name: c.name,
          clock_rate: c.clockRate,
          ...(c.channels ? { channels: c.channels } : {}),
          ...(c.fmtp ? { fmtp: c.fmtp } : {}),
          text: codecToString(c),
        })),
      })),
      connection: producer.info(),
      probe_ms: Date.now() - started,
    };
  } finally {
    clearTimeout(timer);
    await producer?.stop().catch(() => {});
  }
}

/**
 * The `probe` subcommand.
 *
 * @example
 * ```ts
 * program.addCommand(probeCommand());
 * ```
 */
export function probeCommand(): Command {
  return new Command("probe")
    .description("dial a source URL and print its medias and codecs as JSON")
    .argument("<url>", 'source URL, e.g. "demo:" or "rtsp://user:pass@10.0.0.5/stream1"')
    .option("--timeout <ms>", "give up after this many milliseconds", "10000")
    .action(async (url: string, opts: { timeout: string }) => {
      const timeoutMs = Number(opts.timeout);
      if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new CliError(`Invalid --timeout "${opts.timeout}": expected milliseconds > 0.`);
      const result = await probe(url, timeoutMs);
      process.stdout.write(JSON.stringify(result, null, 2) + "\n");
    });
}
