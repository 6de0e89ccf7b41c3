/**
 * `strom relay <src> <dst>`: pulls a source and publishes it to an RTSP server with
 * ANNOUNCE/RECORD (`rtsp://host:port/path`, as `ffmpeg -f rtsp` would), or with
 * `--rtsp-listen :8554 --name cam` serves it from a local RTSP server instead (many viewers, one
 * upstream connection).
 *
 * @module
 */
import { writeStderr } from "../lib/runtime/host.ts";
import { Command } from "commander";
import { redactUrl } from "../lib/core/errors.ts";
import { schemeOf } from "../lib/core/registry.ts";
import type { Stream } from "../lib/core/stream.ts";
import { RtspServer } from "../lib/protocol/rtsp/server.ts";
import { httpUrl, parseListen } from "../server/listen.ts";
import { setRtspPort } from "../server/sources.ts";
import { CliError } from "./errors.ts";
import { abortableSleep } from "../lib/core/abortable_sleep.ts";
import { onInterrupt } from "./interrupt.ts";
import { configOption, parseSeconds, timeoutOption } from "./options.ts";
import { StreamPublisher } from "../lib/protocol/publish/publisher.ts";
import { formatRate, Progress } from "./progress.ts";
import { formatBytes } from "./record.ts";
import { type CliSources, openSources, withTimeout } from "./sources.ts";

/** Options of the `relay` subcommand. */
interface RelayCliOptions {
  rtspListen?: string;
  name?: string;
  username?: string;
  password?: string;
  duration?: string;
  timeout: string;
  retries?: string;
  retryDelay?: string;
  json?: boolean;
  config: string[];
}

function print(line: string): void {
  writeStderr(line + "\n");
}

/** What {@link push} needs besides the stream and destination. */
interface PushSettings {
  timeoutMs: number;
  durationMs?: number;
  /** Give up after this many failed attempts in a row once publishing worked (default: never). */
  retries?: number;
  /** Delays between attempts (the last repeats). */
  retryDelaysMs?: readonly number[];
  progress: Progress;
  log: CliSources["log"];
}

/** What `strom relay` reports every second. */
export interface RelayProgress extends Record<string, unknown> {
  /** Wall seconds since the relay started. */
  elapsed: number;
  /** Bytes sent to the destination, over every connection. */
  bytes: number;
  /** Bits per second sent, over the whole relay. */
  bitrate: number;
  /** Frames dropped because the destination did not keep up. */
  dropped: number;
  /** `publishing`, `connecting` or `waiting` (to retry). */
  state: string;
  /** Connections tried so far. */
  attempts: number;
}

/**
 * The relay's progress line on a terminal.
 *
 * @example
 * ```ts
 * formatRelayProgress({ elapsed: 5, bytes: 1536000, bitrate: 2457600, dropped: 0, state: "publishing", attempts: 1 });
 * // "5.0 s elapsed, 1.5 MB sent, 2458 kbit/s, 0 dropped, publishing"
 * ```
 */
export function formatRelayProgress(p: RelayProgress): string {
  const retry = p.attempts > 1 ? ` (attempt ${p.attempts})` : "";
  return `${p.elapsed.toFixed(1)} s elapsed, ${formatBytes(p.bytes)} sent, ${formatRate(p.bitrate)}, ` +
    `${p.dropped} dropped, ${p.state}${retry}`;
}

/**
 * Publishes `stream` to `dst` until the duration or Ctrl-C. When the destination fails after
 * publishing worked, publishes again with backoff (the source keeps running meanwhile).
 */
async function push(stream: Stream, dst: string, o: PushSettings): Promise<void> {
  let publisher: StreamPublisher;
  try {
    publisher = new StreamPublisher(() => stream, stream.name, dst, {
      log: o.log,
      timeoutMs: o.timeoutMs,
      retryDelaysMs: o.retryDelaysMs,
    });
  } catch (error) {
    throw new CliError(`Invalid destination "${redactUrl(dst)}": ${(error as Error).message}`);
  }
  const { progress } = o;
  const shown = redactUrl(dst);
  const interrupt = onInterrupt((sig) => progress.line(`${sig}: stopping the relay`));
  const started = Date.now();
  // Bytes and drops of the connections that ended, and of the current one.
  let doneBytes = 0;
  let doneDrops = 0;
  let cur = { bytes: 0, drops: 0 };
  let lastState = "connecting";
  let firstDone = false;
  // publisher.attempts when it last published, and when the last retry was reported.
  let publishedAttempt = 1;
  let reportedAttempt = 0;
  const sample = (): RelayProgress => {
    if (publisher.state === "publishing") {
      const info = publisher.info();
      cur = { bytes: info.bytesOut ?? 0, drops: info.drops ?? 0 };
    }
    const elapsed = (Date.now() - started) / 1000;
    const bytes = doneBytes + cur.bytes;
    return {
      elapsed: Math.round(elapsed * 10) / 10,
      bytes,
      bitrate: elapsed > 0 ? Math.round((bytes * 8) / elapsed) : 0,
      dropped: doneDrops + cur.drops,
      state: publisher.state,
      attempts: publisher.attempts,
    };
  };
  let gaveUp: string | undefined;
  let watch: ReturnType<typeof setInterval> | undefined;
  const ended = new Promise<void>((resolve) => {
    // State changes after the first connection: one that ended, a retry, publishing again.
    watch = setInterval(() => {
      if (!firstDone) return;
      const state = publisher.state;
      if (state === lastState && (state !== "waiting" || publisher.attempts === reportedAttempt)) return;
      if (lastState === "publishing" && state !== "publishing") {
        doneBytes += cur.bytes;
        doneDrops += cur.drops;
        cur = { bytes: 0, drops: 0 };
      }
      lastState = state;
      const p = sample();
      if (state === "waiting") {
        reportedAttempt = publisher.attempts;
        const failures = publisher.attempts - publishedAttempt + 1;
        progress.line(`publishing to ${shown} failed: ${publisher.error}; publishing again (attempt ${publisher.attempts + 1})`);
        progress.event({ event: "retry", error: publisher.error ?? null, retry_at: publisher.info().retryAt ?? null, ...p });
        if (o.retries !== undefined && failures > o.retries) {
          gaveUp = `failed ${failures} times in a row (--retries ${o.retries}); the last error: ${publisher.error}`;
          resolve();
        }
      } else if (state === "publishing") {
        publishedAttempt = publisher.attempts;
        progress.line(`publishing to ${shown} again (attempt ${publisher.attempts})`);
        progress.event({ event: "publishing", ...p });
      }
    }, 100);
  });
  try {
    try {
      await withTimeout(publisher.start(), o.timeoutMs * 2, `publishing to "${shown}"`, interrupt.signal);
    } catch (error) {
      if (error instanceof CliError) throw error;
      throw new CliError(`Cannot publish to "${shown}": ${(error as Error).message}`);
    }
    lastState = "publishing";
    firstDone = true;
    const tracks = publisher.info().medias?.map((m) => m.split(", ").slice(2).join(" ")).join(" + ") ?? "";
    progress.line(`relaying ${stream.name} (${tracks}) to ${shown}; Ctrl-C stops`);
    progress.event({ event: "start", stream: stream.name, dst: shown, tracks });
    progress.every(1000, sample, formatRelayProgress);
    const timer = o.durationMs !== undefined
      ? abortableSleep(o.durationMs, interrupt.signal)
      : new Promise<void>(() => {});
    await Promise.race([ended, interrupt.received, timer]);
  } finally {
    clearInterval(watch);
    progress.stop();
    const last = sample();
    await publisher.stop().catch(() => {});
    interrupt.dispose();
    if (firstDone) {
      progress.event({ event: "end", ...last, ...(gaveUp ? { error: gaveUp } : {}) });
      progress.line(
        `relayed ${formatBytes(last.bytes)}${last.dropped ? `, ${last.dropped} frames dropped` : ""}` +
          (last.attempts > 1 ? ` over ${last.attempts} attempts` : ""),
      );
    }
  }
  if (gaveUp) throw new CliError(`Publishing to "${shown}" ${gaveUp}`);
}

/** Serves `src` as `name` from a local RTSP server until the duration or Ctrl-C. */
async function serve(
  sources: CliSources,
  src: string,
  o: RelayCliOptions,
  durationMs: number | undefined,
): Promise<void> {
  let listen;
  try {
    listen = parseListen(o.rtspListen ?? "");
  } catch (error) {
    throw new CliError(`Invalid --rtsp-listen: ${(error as Error).message}`);
  }
  if (!listen) {
    throw new CliError('Invalid --rtsp-listen "": give an address such as ":8554" or "127.0.0.1:8554".');
  }
  const name = o.name ?? (sources.hub.get(src) ? src : "stream");
  if (!/^[\w.~-][\w.~/-]*$/.test(name)) {
    throw new CliError(`Invalid --name "${name}": use letters, digits, _ . ~ - and /.`);
  }
  if (sources.hub.get(src)) {
    if (name !== src) sources.hub.set(name, sources.hub.get(src)!.sources);
  } else if (schemeOf(src)) {
    sources.hub.set(name, [src]);
  } else {
    sources.stream(src); // throws the "neither a URL nor a stream" error
  }
  const server = new RtspServer({
    hub: sources.hub,
    listen,
    username: o.username,
    password: o.password,
    log: sources.log,
  });
  try {
    await server.listen();
  } catch (error) {
    throw new CliError(`Cannot listen on ${o.rtspListen} for RTSP: ${(error as Error).message}`);
  }
  const interrupt = onInterrupt((sig) => print(`${sig}: stopping the RTSP server`));
  try {
    setRtspPort(server.addr.port);
    const host = new URL(httpUrl(server.addr)).host;
    const auth = o.username || o.password ? `${o.username ?? ""}:***@` : "";
    print(
      `serving ${
        redactUrl(src)
      } at rtsp://${auth}${host}/${name} (the source is dialed when the first viewer comes); Ctrl-C stops`,
    );
    await (durationMs !== undefined ? abortableSleep(durationMs, interrupt.signal) : interrupt.received);
  } finally {
    interrupt.dispose();
    await server.close();
  }
}

/**
 * The `relay` subcommand.
 *
 * @example
 * ```ts
 * program.addCommand(relayCommand());
 * ```
 */
export function relayCommand(): Command {
  return new Command("relay")
    .description(
      "publish a source to an RTSP server (ANNOUNCE/RECORD), or serve it over RTSP with --rtsp-listen",
    )
    .argument("<src>", 'source URL ("demo:", "rtsp://...", "ffmpeg:...") or a stream name of the config')
    .argument("[dst]", "RTSP URL to publish to, e.g. rtsp://user:pass@server:8554/live/cam")
    .option(
      "--rtsp-listen <address>",
      'instead of publishing, serve the source at this address, e.g. ":8554"',
    )
    .option(
      "--name <name>",
      'stream name (path) to serve it under with --rtsp-listen (default: the config name, else "stream")',
    )
    .option("--username <user>", "with --rtsp-listen: require this user (Basic/Digest)")
    .option("--password <pass>", "with --rtsp-listen: require this password")
    .option("-d, --duration <seconds>", "stop after this many seconds (default: until Ctrl-C)")
    .option(
      "--retries <n>",
      "when the destination fails, publish again at most this many times in a row (default: without limit)",
    )
    .option(
      "--retry-delay <seconds>",
      "first delay before publishing again; it doubles up to 30 s (default 1)",
    )
    .option("--json", "JSON lines on stdout: start, progress every second, retry, publishing, end")
    .addOption(
      timeoutOption(
        10,
        "give up when the source or the destination does not answer within this many seconds",
      ),
    )
    .addOption(configOption())
    .addHelpText(
      "after",
      `
Examples:
  strom relay rtsp://admin:pass@192.168.1.10/stream1 rtsp://media.example.com:8554/live/door
  strom relay demo: rtsp://127.0.0.1:8554/test
  strom relay rtsp://192.168.1.10/stream1 --rtsp-listen :8554 --name door   # ffplay rtsp://host:8554/door
  strom relay "ffmpeg:rtsp://192.168.1.10/h265#video=h264" rtsp://server/live/door

Publishing sends every video and audio track as RTP over the RTSP connection (TCP interleaved);
RTP from RTSP sources is forwarded as is, other sources are packetized. When the destination
fails or closes the connection after publishing worked, it publishes again with backoff (1 s,
doubling up to 30 s) until --retries failures in a row; the first connection must work. On a
terminal a progress line shows elapsed time, bytes sent, bit rate and dropped frames.`,
    )
    .action(async (src: string, dst: string | undefined, opts: RelayCliOptions) => {
      if (dst && opts.rtspListen) {
        throw new CliError("Give either a destination URL or --rtsp-listen, not both.");
      }
      if (!dst && !opts.rtspListen) {
        throw new CliError(
          "Missing the destination: pass an rtsp:// URL to publish to, or --rtsp-listen :8554 to serve.",
        );
      }
      if (dst && !/^rtsps?:\/\//i.test(dst)) {
        throw new CliError(
          `Cannot publish to "${redactUrl(dst)}": only rtsp:// and rtsps:// destinations are supported.`,
        );
      }
      const timeoutMs = parseSeconds("--timeout", opts.timeout) * 1000;
      const durationMs = opts.duration !== undefined
        ? parseSeconds("--duration", opts.duration) * 1000
        : undefined;
      const retries = opts.retries !== undefined ? parseCount("--retries", opts.retries) : undefined;
      const firstDelay = opts.retryDelay !== undefined ? parseSeconds("--retry-delay", opts.retryDelay) * 1000 : 1000;
      const progress = new Progress({ mode: opts.json ? "json" : undefined });
      const sources = await openSources({ config: opts.config, dialTimeoutMs: timeoutMs });
      try {
        if (dst) {
          await push(sources.stream(src), dst, {
            timeoutMs,
            durationMs,
            retries,
            retryDelaysMs: backoff(firstDelay),
            progress,
            log: sources.log,
          });
        }
        else await serve(sources, src, opts, durationMs);
      } finally {
        await sources.close();
      }
    });
}

/** Delays from `firstMs`, doubling up to 30 s. */
function backoff(firstMs: number): number[] {
  const out = [firstMs];
  while (out[out.length - 1] < 30_000 && out.length < 20) out.push(Math.min(30_000, out[out.length - 1] * 2));
  return out;
}

function parseCount(option: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new CliError(`Invalid ${option} "${value}": expected a whole number >= 0.`);
  return n;
}
