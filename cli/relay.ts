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
import { RtspPusher } from "./rtsp_pusher.ts";
import { type CliSources, openSources, withTimeout } from "./sources.ts";

/** Options of the `relay` subcommand. */
interface RelayCliOptions {
  rtspListen?: string;
  name?: string;
  username?: string;
  password?: string;
  duration?: string;
  timeout: string;
  config: string[];
}

function print(line: string): void {
  writeStderr(line + "\n");
}

/** Publishes `stream` to `dst` until the duration, Ctrl-C, or the server closing the connection. */
async function push(
  stream: Stream,
  dst: string,
  timeoutMs: number,
  durationMs: number | undefined,
  log: CliSources["log"],
): Promise<void> {
  let pusher: RtspPusher;
  try {
    pusher = new RtspPusher(dst, { timeoutMs, log });
  } catch (error) {
    throw new CliError(`Invalid destination "${redactUrl(dst)}": ${(error as Error).message}`);
  }
  const interrupt = onInterrupt((sig) => print(`${sig}: stopping the relay`));
  try {
    await withTimeout(
      stream.addConsumer(pusher),
      timeoutMs,
      `connecting to "${stream.name}"`,
      interrupt.signal,
    );
    try {
      await withTimeout(pusher.connect(), timeoutMs, `publishing to "${redactUrl(dst)}"`, interrupt.signal);
    } catch (error) {
      if (error instanceof CliError) throw error;
      throw new CliError(`Cannot publish to "${redactUrl(dst)}": ${(error as Error).message}`);
    }
    const tracks = pusher.info().medias?.map((m) => m.split(", ").slice(2).join(" ")).join(" + ");
    print(`relaying ${stream.name} (${tracks}) to ${redactUrl(dst)}; Ctrl-C stops`);
    const timer = durationMs !== undefined
      ? abortableSleep(durationMs, interrupt.signal)
      : new Promise<void>(() => {});
    const closed = await Promise.race([
      pusher.closed.then((e) => e ?? new Error("the server closed the connection")),
      interrupt.received.then(() => undefined),
      timer.then(() => undefined),
    ]);
    if (closed) throw new CliError(`Publishing to "${redactUrl(dst)}" ended: ${closed.message}`);
  } finally {
    await stream.removeConsumer(pusher).catch(() => {});
    interrupt.dispose();
  }
  print(
    `relayed ${formatBytesShort(pusher.bytesOut)}${
      pusher.info().drops ? `, ${pusher.info().drops} frames dropped` : ""
    }`,
  );
}

function formatBytesShort(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : `${(n / 1024).toFixed(1)} KB`;
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
RTP from RTSP sources is forwarded as is, other sources are packetized. It stops with exit code 1
when the server closes the connection (wrap it in a service manager to retry).`,
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
      const sources = await openSources({ config: opts.config, dialTimeoutMs: timeoutMs });
      try {
        if (dst) await push(sources.stream(src), dst, timeoutMs, durationMs, sources.log);
        else await serve(sources, src, opts, durationMs);
      } finally {
        await sources.close();
      }
    });
}
