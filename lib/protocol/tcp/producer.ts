/**
 * The `tcp://host:port` source: connects and reads a raw media stream, as go2rtc's `tcp://`
 * (e.g. `ffmpeg -f mpegts tcp://0.0.0.0:12345?listen=1`, encoders that serve MPEG-TS over TCP).
 * The format is sniffed from the first bytes: MPEG-TS, FLV, MJPEG multipart or raw JPEG.
 *
 * Connecting opens a socket and runs no program.
 *
 * @module
 */
import type { SourceContext } from "../../core/connection.ts";
import { SourceError } from "../../core/errors.ts";
import { type Logger, silentLogger } from "../../core/log.ts";
import { registerSource } from "../../core/registry.ts";
import { formatAddress } from "../../runtime/address.ts";
import { tcpConnect } from "../../runtime/tcp.ts";
import { type ByteStreamProducer, openByteStream } from "../http/byte_stream_producer.ts";
import { errorText } from "../http/client.ts";

/** Options of {@link dialTcp}. */
export interface TcpDialOptions {
  log?: Logger;
  /** Aborts the dial. */
  signal?: AbortSignal;
  /** Connect timeout. Default 10 000 ms. */
  connectTimeoutMs?: number;
  /** How long to wait for the format and complete tracks. Default 10 000 ms. */
  probeTimeoutMs?: number;
  /** A running source that sends nothing for this long fails (and is redialed). Default 15 000 ms. */
  idleTimeoutMs?: number;
}

/**
 * Splits `tcp://host:port` (IPv6 as `tcp://[::1]:port`).
 *
 * @throws {SourceError} without a host or a port.
 * @example
 * ```ts
 * parseTcpUrl("tcp://192.168.1.5:12345"); // { hostname: "192.168.1.5", port: 12345 }
 * ```
 */
export function parseTcpUrl(url: string): { hostname: string; port: number } {
  const m = /^tcp:\/\/(\[[^\]]+\]|[^:/?#]+):(\d+)\/?(?:[?#].*)?$/i.exec(url.trim());
  const port = m ? Number(m[2]) : 0;
  if (!m || port < 1 || port > 65535) {
    throw new SourceError(url, 'expected "tcp://host:port", e.g. tcp://192.168.1.5:12345');
  }
  return { hostname: m[1].replace(/^\[|\]$/g, ""), port };
}

/**
 * Connects to a `tcp://` source and returns it once its format and tracks are known.
 *
 * @throws {SourceError} when the connection is refused or times out, or the bytes are not a
 *   supported stream (the first bytes are named).
 * @example
 * ```ts
 * const producer = await dialTcp("tcp://127.0.0.1:12345");
 * producer.medias(); // [video H264, audio MPEG4-GENERIC]
 * ```
 */
export async function dialTcp(url: string, options: TcpDialOptions = {}): Promise<ByteStreamProducer> {
  const { hostname, port } = parseTcpUrl(url);
  let conn;
  try {
    conn = await tcpConnect({ hostname, port, signal: options.signal, timeoutMs: options.connectTimeoutMs });
  } catch (error) {
    throw new SourceError(url, `cannot connect to ${hostname}:${port}: ${errorText(error)}`, {
      cause: error,
    });
  }
  const remote = conn.remoteAddr;
  return await openByteStream(conn.readable, {
    url,
    kind: "tcp",
    protocol: "tcp",
    remoteAddr: formatAddress(remote.hostname, remote.port),
    log: (options.log ?? silentLogger).child({ source: "tcp" }),
    signal: options.signal,
    probeTimeoutMs: options.probeTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs,
    close: () => conn.destroy(),
  });
}

/**
 * Registers the `tcp` scheme. Nothing is registered at import time.
 *
 * @example
 * ```ts
 * registerTcpSource({ log });
 * // streams: { encoder: "tcp://192.168.1.5:12345" }
 * ```
 */
export function registerTcpSource(options: { log?: Logger } = {}): void {
  registerSource(
    "tcp",
    (url: string, context: SourceContext) => dialTcp(url, { log: options.log, signal: context.signal }),
  );
}
