/**
 * strom's RTSP server: `rtsp://host:8554/<stream>` for viewers (TCP interleaved or UDP) and for
 * publishers (ANNOUNCE/RECORD into an existing stream), with optional Basic/Digest authentication.
 *
 * Many viewers of one camera share one upstream connection: that is the stream's job; each viewer
 * session only adds senders to the stream's receivers.
 *
 * @module
 */
import type { StreamHub } from "../../core/hub.ts";
import { type Logger, silentLogger } from "../../core/log.ts";
import type { ConnectionGate } from "../../core/connection_gate.ts";
import { type NetAddr, type TcpConn, tcpListen, type TcpListener } from "../../runtime/mod.ts";
import { type RtspAccess, singleAccountAccess } from "./access.ts";
import { RtspAuthServer } from "./auth.ts";
import { parsePacketSize } from "./packet_size.ts";
import { RtspServerSession } from "./server_session.ts";

/** Options of {@link RtspServer}. */
export interface RtspServerOptions {
  hub: StreamHub;
  /** Address to listen on. Default `0.0.0.0:8554`. */
  listen?: { hostname?: string; port: number };
  /** With a password set, every request needs Basic or Digest credentials. */
  username?: string;
  password?: string;
  /** More accounts accepted when auth is on (e.g. an internal account for the server's own readers). */
  accounts?: readonly { username: string; password: string }[];
  /**
   * Decides every request (per-stream accounts, tokens...); replaces `username`/`password`/`accounts`
   * when given.
   */
  access?: RtspAccess;
  /** Serve RTSPS: TLS with this certificate chain and key (PEM text). */
  tls?: { cert: string; key: string };
  /** Media query used when a viewer's URL has none. Default `video&audio` (go2rtc's default_query). */
  defaultQuery?: string;
  log?: Logger;
  /** A session with no request or RTCP for this long (while not streaming over TCP) is closed. Default 60 s. */
  sessionTimeoutMs?: number;
  /** Bytes a viewer's socket may hold before frames wait (and then drop). Default 4 MiB. */
  maxBufferedBytes?: number;
  /**
   * go2rtc's `rtsp.pkt_size`: the largest RTP packet sent to viewers, in bytes. When set, frames are
   * re-packetized at this size instead of forwarding the camera's own packets (for players or
   * networks that need small packets, e.g. a VPN with a low MTU). A viewer's `?pkt_size=N` overrides
   * it. Default: forward the source's packets; packetize other sources at 1200 bytes.
   */
  packetSize?: number;
  /** Admits connections (overall and per-IP limits) and viewers (per-stream limit); none: no limits. */
  gate?: ConnectionGate;
  /**
   * A client must complete each request it starts (and its first one after connecting) within this
   * long while not streaming; otherwise it is closed (half-open and slow-header clients). Default 30 s.
   */
  headerTimeoutMs?: number;
  /** Close a connection whose peer takes no bytes for this long while data waits for it. Default: never. */
  writeTimeoutMs?: number;
  /**
   * Sends a viewer elsewhere (a cluster's load balancer): the RTSP base URL of the server that should
   * serve `stream` to a client at `remoteAddress`, or undefined to serve it here. DESCRIBE then
   * answers 302 with that server's URL for the stream, marked so it is not sent on again.
   */
  redirect?: (stream: string, remoteAddress: string) => string | undefined;
}

/**
 * The RTSP server.
 *
 * @example
 * ```ts
 * const hub = new StreamHub();
 * hub.set("cam", ["rtsp://10.0.0.5/stream1"]);
 * const server = new RtspServer({ hub, listen: { hostname: "0.0.0.0", port: 8554 } });
 * const addr = await server.listen();
 * // ffplay rtsp://127.0.0.1:8554/cam
 * await server.close();
 * ```
 */
export class RtspServer {
  /** Open sessions (one per TCP connection). */
  readonly sessions = new Set<RtspServerSession>();
  readonly #options: RtspServerOptions;
  readonly #log: Logger;
  readonly #access: RtspAccess | undefined;
  #listener: TcpListener | undefined;

  constructor(options: RtspServerOptions) {
    this.#options = options;
    this.#log = (options.log ?? silentLogger).child({ module: "rtsp" });
    if (options.access) {
      this.#access = options.access;
    } else if (options.username || options.password) {
      this.#access = singleAccountAccess(
        new RtspAuthServer({
          username: options.username ?? "",
          password: options.password ?? "",
          accounts: options.accounts,
        }),
      );
    }
  }

  /** Creates a server and starts listening. */
  static async listen(options: RtspServerOptions): Promise<RtspServer> {
    const server = new RtspServer(options);
    await server.listen();
    return server;
  }

  /** The bound address (port resolved when 0 was asked for). */
  get addr(): NetAddr {
    if (!this.#listener) throw new Error("RtspServer is not listening; call listen() first");
    return this.#listener.addr;
  }

  /**
   * Serves a renewed certificate to new RTSPS connections (open sessions keep theirs).
   *
   * @example
   * ```ts
   * server.setTls({ cert: newCertPem, key: newKeyPem });
   * ```
   */
  setTls(files: { cert: string; key: string }): void {
    if (!this.#listener?.setTls) throw new Error("RtspServer.setTls(): this server does not listen with TLS");
    this.#listener.setTls(files);
  }

  /** Starts accepting connections. */
  async listen(): Promise<NetAddr> {
    if (this.#listener) return this.#listener.addr;
    const listen = this.#options.listen ?? { hostname: "0.0.0.0", port: 8554 };
    const ctx = {
      hub: this.#options.hub,
      access: this.#access,
      defaultQuery: this.#options.defaultQuery ?? "video&audio",
      log: this.#log,
      sessionTimeoutMs: this.#options.sessionTimeoutMs ?? 60_000,
      maxBufferedBytes: this.#options.maxBufferedBytes ?? 4 * 1024 * 1024,
      packetSize: parsePacketSize(this.#options.packetSize, "RtspServer option packetSize"),
      gate: this.#options.gate,
      redirect: this.#options.redirect,
      headerTimeoutMs: this.#options.headerTimeoutMs ?? 30_000,
      onRelease: (session: RtspServerSession) => {
        this.sessions.delete(session);
      },
    };
    this.#listener = await tcpListen({
      hostname: listen.hostname ?? "0.0.0.0",
      port: listen.port,
      tls: this.#options.tls,
      writeTimeoutMs: this.#options.writeTimeoutMs,
      onConnection: (conn) => {
        const ticket = this.#options.gate?.admit("rtsp", conn.remoteAddr.hostname);
        if (ticket && "limit" in ticket) return refuseConnection(conn, ticket.message);
        // Released when the session ends or the socket closes, whichever comes first.
        if (ticket) conn.closed.then(() => ticket.release());
        const session = new RtspServerSession(ctx, conn);
        this.sessions.add(session);
        session.run().finally(() => ticket?.release()).catch((error) => this.#log.warn("rtsp session failed", { error: String(error) }));
      },
    });
    this.#log.info("rtsp server listening", { port: this.#listener.addr.port });
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

const REFUSE_WAIT_MS = 2000;

// Answers the client's first request with 503 and the reason (with its CSeq, so players show it),
// then closes. Gives up after 2 s or 4 KiB without a complete request.
function refuseConnection(conn: TcpConn, message: string): void {
  let text = "";
  const answer = () => {
    clearTimeout(timer);
    const cseq = /^CSeq:\s*(\d+)/im.exec(text)?.[1];
    const body = `${message}\r\n`;
    const head = `RTSP/1.0 503 Service Unavailable\r\n${cseq ? `CSeq: ${cseq}\r\n` : ""}` +
      `Content-Type: text/plain\r\nContent-Length: ${new TextEncoder().encode(body).length}\r\n\r\n`;
    conn.write(new TextEncoder().encode(head + body));
    conn.close();
  };
  const timer = setTimeout(answer, REFUSE_WAIT_MS);
  const decoder = new TextDecoder();
  conn.read((chunk) => {
    if (text.includes("\r\n\r\n") || text.length > 4096) return;
    text += decoder.decode(chunk, { stream: true });
    if (text.includes("\r\n\r\n") || text.length > 4096) answer();
  }, () => clearTimeout(timer));
}
