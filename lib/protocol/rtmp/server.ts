/**
 * strom's RTMP server: `rtmp://host:1935/<stream>` for players (`ffplay`, VLC) and publishers
 * (`ffmpeg -f flv`, OBS with a stream key) into existing streams.
 *
 * @module
 */
import type { ConnectionGate } from "../../core/connection_gate.ts";
import type { StreamHub } from "../../core/hub.ts";
import { type Logger, silentLogger } from "../../core/log.ts";
import { type NetAddr, tcpListen, type TcpListener } from "../../runtime/mod.ts";
import type { RtmpAccess } from "./access.ts";
import { RtmpServerSession } from "./server_session.ts";

/** Options of {@link RtmpServer}. */
export interface RtmpServerOptions {
  hub: StreamHub;
  /** Address to listen on. Default `0.0.0.0:1935`. */
  listen?: { hostname?: string; port: number };
  log?: Logger;
  /** A session with no message for this long (while not playing) is closed. Default 60 s. */
  sessionTimeoutMs?: number;
  /** Bytes a player's socket may hold before frames wait (and then drop). Default 4 MiB. */
  maxBufferedBytes?: number;
  /** Largest RTMP message accepted. Default 16 MiB. */
  maxMessageBytes?: number;
  /** How long a publisher may lack a track its metadata announced before going without it. Default 3 s. */
  trackWaitMs?: number;
  /** Decides each play and publish (stream keys, accounts, tokens). Default: everyone may do both. */
  access?: RtmpAccess;
  /** Admits connections (overall and per-IP limits) and players (per-stream limit); none: no limits. */
  gate?: ConnectionGate;
  /** Close a connection whose peer takes no bytes for this long while data waits for it. Default: never. */
  writeTimeoutMs?: number;
}

/**
 * The RTMP server.
 *
 * @example
 * ```ts
 * const hub = new StreamHub();
 * hub.set("live", []); // push-only stream
 * const server = await RtmpServer.listen({ hub, listen: { port: 1935 } });
 * // ffmpeg -re -i in.mp4 -c copy -f flv rtmp://127.0.0.1/live
 * // ffplay rtmp://127.0.0.1/live
 * await server.close();
 * ```
 */
export class RtmpServer {
  /** Open sessions (one per TCP connection). */
  readonly sessions = new Set<RtmpServerSession>();
  readonly #options: RtmpServerOptions;
  readonly #log: Logger;
  #listener: TcpListener | undefined;

  constructor(options: RtmpServerOptions) {
    this.#options = options;
    this.#log = (options.log ?? silentLogger).child({ module: "rtmp" });
  }

  /** Creates a server and starts listening. */
  static async listen(options: RtmpServerOptions): Promise<RtmpServer> {
    const server = new RtmpServer(options);
    await server.listen();
    return server;
  }

  /** The bound address (port resolved when 0 was asked for). */
  get addr(): NetAddr {
    if (!this.#listener) throw new Error("RtmpServer is not listening; call listen() first");
    return this.#listener.addr;
  }

  /** Starts accepting connections. */
  async listen(): Promise<NetAddr> {
    if (this.#listener) return this.#listener.addr;
    const listen = this.#options.listen ?? { hostname: "0.0.0.0", port: 1935 };
    const ctx = {
      hub: this.#options.hub,
      log: this.#log,
      sessionTimeoutMs: this.#options.sessionTimeoutMs ?? 60_000,
      maxBufferedBytes: this.#options.maxBufferedBytes ?? 4 * 1024 * 1024,
      maxMessageBytes: this.#options.maxMessageBytes ?? 16 * 1024 * 1024,
      trackWaitMs: this.#options.trackWaitMs ?? 3000,
      access: this.#options.access,
      gate: this.#options.gate,
      onRelease: (session: RtmpServerSession) => {
        this.sessions.delete(session);
      },
    };
    this.#listener = await tcpListen({
      hostname: listen.hostname ?? "0.0.0.0",
      port: listen.port,
      writeTimeoutMs: this.#options.writeTimeoutMs,
      onConnection: (conn) => {
        // Refused before the handshake: RTMP has no way to say why then; the log and metrics do.
        const ticket = this.#options.gate?.admit("rtmp", conn.remoteAddr.hostname);
        if (ticket && "limit" in ticket) return conn.destroy();
        // Released when the session ends or the socket closes, whichever comes first.
        if (ticket) conn.closed.then(() => ticket.release());
        const session = new RtmpServerSession(ctx, conn);
        this.sessions.add(session);
        session.run().finally(() => ticket?.release()).catch((error) => this.#log.warn("rtmp session failed", { error: String(error) }));
      },
    });
    this.#log.info("rtmp server listening", { port: this.#listener.addr.port });
    return this.#listener.addr;
  }

  /** Stops listening and closes every session. */
  async close(): Promise<void> {
    await this.#listener?.close();
    this.#listener = undefined;
    for (const s of [...this.sessions]) s.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
