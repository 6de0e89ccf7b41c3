/**
 * One UDP port for every WebRTC peer (go2rtc's `webrtc.listen: ":8555"`), in front of werift, which
 * opens a socket per peer. A forwarded port and a firewall rule for 8555 is then all a user needs.
 *
 * How: the mux owns the public socket. Each peer session registers its local ICE username fragment
 * (`a=ice-ufrag` of strom's SDP) and the address of its werift socket, and announces host candidates
 * on the mux port instead of werift's own; the mux binds a relay socket on the werift socket's host
 * for it. The first packet from a new remote address must be a STUN binding request whose USERNAME
 * starts with a registered ufrag (RFC 8445 §7.2.2: `<ours>:<theirs>`); from then on the mux forwards
 * datagrams both ways by address: remote → relay → werift, werift → relay → remote. werift
 * sees the relay as the remote (a peer-reflexive candidate, which ICE handles like any other), and
 * MESSAGE-INTEGRITY is untouched because no byte is rewritten.
 *
 * ICE-TCP on the same port number (RFC 6544 passive host candidates, RFC 4571 framing), as go2rtc:
 * the mux also listens for TCP there. A connection's first frame must be a STUN binding request whose
 * USERNAME names a registered session; from then on its frames go into that session's relay socket
 * like datagrams, and what werift sends to the relay goes back framed on the connection. werift never
 * knows it is TCP (it sees the relay's UDP address, as for UDP peers), so a browser that can only
 * reach TCP plays through the one forwarded port.
 *
 * In-process shortcut ({@link MuxTarget.direct}): when the session hands the mux its werift socket
 * as an object (peer.ts does), the relay socket only provides the address werift takes the peer
 * for: the peer's datagrams are handed to werift's receive handler as if they came from the relay,
 * and werift's sends to the relay address leave straight from the public socket (or the TCP
 * connection). That saves a loopback send and receive per packet each way: on Node about a third
 * of a WebRTC viewer's per-packet cost, on Deno more (docs/performance.md, "WebRTC fan-out").
 *
 * Costs without it: one extra loopback hop per datagram each way (a receive and a send, no copy, no allocation
 * beyond the runtime's own), only when the mux is on; over TCP one framed copy per packet towards the
 * peer. Bounded: one relay per session (the first peer address or TCP connection that reaches the
 * port), a cap on sessions; datagrams from unknown addresses that are not a matching STUN request are
 * dropped and counted; TCP connections that do not name a session in their first frame, or within
 * 10 s, are closed, at most 64 wait at once, and a connection whose peer stops reading has packets
 * dropped beyond 1 MiB queued; a session's relay and connection close when it unregisters.
 *
 * @module
 */
import type { NetAddr } from "../../runtime/net_error.ts";
import { type TcpConn, type TcpListener, tcpListen } from "../../runtime/tcp.ts";
import { type UdpSocket, udpBind } from "../../runtime/udp.ts";
import { FrameReader, frameOf, MAX_FRAME } from "./ice_tcp_framing.ts";

const STUN_MAGIC = 0x2112a442;
const STUN_USERNAME = 0x0006;
/** TCP connections that have not named their session yet. */
const MAX_UNIDENTIFIED_TCP = 64;
const TCP_IDENTIFY_MS = 10_000;
/** Beyond this much queued towards a TCP peer, packets are dropped (a peer that stopped reading). */
const TCP_MAX_QUEUED = 1 << 20;

/** Where a session's werift socket listens (what the relay sends to). */
export interface MuxTarget {
  hostname: string;
  port: number;
  /** The session's socket as an object in this process, to skip the loopback hop (optional). */
  direct?: MuxDirect;
}

/**
 * The in-process side of a session's socket. Once the relay is bound, the mux calls {@link attach}
 * with the relay's address and the function that sends to the peer (through the public socket or
 * the TCP connection): the session sends there what it would send to `relay`. Then every datagram
 * from the peer goes to {@link deliver}, `from` being the relay's address. `attach(undefined)` when
 * the session unregisters.
 */
export interface MuxDirect {
  deliver(data: Uint8Array, from: NetAddr): void;
  attach(link: { relay: NetAddr; send: (data: Uint8Array) => boolean } | undefined): void;
}

/** Counters of {@link IceUdpMux}, for metrics and tests. */
export interface IceMuxStats {
  sessions: number;
  /** Sessions whose peer address is known (ICE reached the port, over UDP or TCP). */
  relays: number;
  /** Sessions carried by an ICE-TCP connection. */
  tcpRelays: number;
  /**
   * Datagrams from an unknown address that were not a STUN request for a registered ufrag, TCP
   * connections refused or closed for the same reason, and packets dropped towards a TCP peer that
   * does not read.
   */
  dropped: number;
}

/**
 * One session: its relay socket towards werift (bound when the session registers, before the
 * answer leaves, so the peer's first check is forwarded at once) and the peer address it carries.
 */
class Session {
  socket: UdpSocket | undefined;
  remote: NetAddr | undefined;
  /** The ICE-TCP connection carrying the session (instead of `remote`). */
  tcp: TcpConn | undefined;
  /** The relay's address as werift sees it, once attached to `target.direct`. */
  relay: NetAddr | undefined;
  /** Datagrams that arrived before the relay socket was bound (bounded). */
  pending: Uint8Array[] | undefined = [];
  closed = false;
  constructor(readonly target: MuxTarget) {}

  forward(data: Uint8Array): void {
    const socket = this.socket;
    if (socket === undefined) {
      if (this.pending && this.pending.length < 8) this.pending.push(data.slice());
      return;
    }
    const relay = this.relay;
    if (relay !== undefined) this.target.direct!.deliver(data, relay);
    else socket.send(data, this.target.port, this.target.hostname);
  }

  /** Whether a peer (UDP address or TCP connection) carries the session. */
  get carried(): boolean {
    return this.remote !== undefined || this.tcp !== undefined;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = undefined;
    if (this.relay !== undefined) {
      this.relay = undefined;
      try {
        this.target.direct?.attach(undefined);
      } catch { /* the session's socket is already gone */ }
    }
    this.socket?.close();
    this.tcp?.destroy();
  }
}

/**
 * The USERNAME attribute of a STUN binding request, or undefined when `data` is not one (RTP, DTLS,
 * a STUN response, garbage). Never throws; reads within `data` only.
 *
 * @example
 * ```ts
 * stunUsername(bindingRequestBytes); // "a1b2:c3d4"
 * ```
 */
export function stunUsername(data: Uint8Array): string | undefined {
  if (data.length < 20 || data[0] !== 0x00 || data[1] !== 0x01) return undefined; // binding request only
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (view.getUint32(4) !== STUN_MAGIC) return undefined;
  const end = Math.min(data.length, 20 + view.getUint16(2));
  let at = 20;
  while (at + 4 <= end) {
    const type = view.getUint16(at);
    const length = view.getUint16(at + 2);
    if (at + 4 + length > end) return undefined;
    if (type === STUN_USERNAME) {
      return new TextDecoder("utf-8", { fatal: false }).decode(data.subarray(at + 4, at + 4 + length));
    }
    at += 4 + ((length + 3) & ~3);
  }
  return undefined;
}

/** Options of {@link IceUdpMux.bind}. */
export interface IceMuxOptions {
  /** Local address of the public socket; default all IPv4 addresses. */
  hostname?: string;
  /** The public port (go2rtc's 8555); 0 picks a free one (tests). */
  port: number;
  /** Sessions registered at once; default 1000. */
  maxSessions?: number;
  /**
   * Also accept ICE-TCP on the same port number (default true). When the TCP port cannot be had
   * the mux serves UDP only and {@link IceUdpMux.tcpError} says why.
   */
  tcp?: boolean;
  /** The ICE-TCP port; default the UDP port's number (go2rtc's `listen: ":8555/tcp"` fixes only TCP). */
  tcpPort?: number;
}

/**
 * The shared ICE UDP port.
 *
 * @example
 * ```ts
 * const mux = await IceUdpMux.bind({ port: 8555 });
 * const unregister = mux.register("a1b2", { hostname: "127.0.0.1", port: 40123 });
 * // ... the session announces host candidates on mux.port ...
 * unregister();
 * mux.close();
 * ```
 */
export class IceUdpMux {
  readonly #socket: UdpSocket;
  readonly #tcp: TcpListener | undefined;
  readonly #tcpError: string | undefined;
  readonly #tcpConns = new Set<TcpConn>();
  #unidentified = 0;
  readonly #sessions = new Map<string, Session>();
  /** peer host → peer port → session: two lookups per datagram, no key string built. */
  readonly #byRemote = new Map<string, Map<number, Session>>();
  readonly #maxSessions: number;
  #dropped = 0;
  #closed = false;

  private constructor(
    socket: UdpSocket,
    tcp: { listener?: TcpListener; error?: string; accept: { fn?: (conn: TcpConn) => void } },
    options: IceMuxOptions,
  ) {
    this.#socket = socket;
    this.#tcp = tcp.listener;
    this.#tcpError = tcp.error;
    tcp.accept.fn = this.#onTcp;
    this.#maxSessions = options.maxSessions ?? 1000;
    socket.onMessage = this.#onPublic;
  }

  /**
   * Binds the public UDP socket and, unless `tcp: false`, a TCP listener on the same address and port.
   *
   * @throws {NetError} when the UDP port is taken (another strom or go2rtc on 8555: change `webrtc.listen`).
   */
  static async bind(options: IceMuxOptions): Promise<IceUdpMux> {
    const hostname = options.hostname ?? "0.0.0.0";
    // The listener exists before the mux does: connections accepted in between wait for it.
    const accept: { fn?: (conn: TcpConn) => void } = {};
    const onConnection = (conn: TcpConn) => accept.fn ? accept.fn(conn) : conn.destroy();
    // Port 0 (tests): the free UDP port may be taken for TCP; try a few.
    for (let attempt = 0;; attempt++) {
      const socket = await udpBind({ hostname, port: options.port });
      if (options.tcp === false) return new IceUdpMux(socket, { accept }, options);
      try {
        const listener = await tcpListen({ hostname, port: options.tcpPort ?? socket.addr.port, onConnection });
        return new IceUdpMux(socket, { listener, accept }, options);
      } catch (error) {
        if (options.port === 0 && options.tcpPort === undefined && attempt < 4) {
          socket.close();
          continue;
        }
        const message = String((error as Error)?.message ?? error);
        return new IceUdpMux(socket, { error: message, accept }, options);
      }
    }
  }

  /** The public port (the real one when 0 was asked for). */
  get port(): number {
    return this.#socket.addr.port;
  }

  /** The public socket's local address. */
  get hostname(): string {
    return this.#socket.addr.hostname;
  }

  /** Whether ICE-TCP is served, on {@link tcpPort} (announce `tcptype passive` candidates). */
  get tcp(): boolean {
    return this.#tcp !== undefined;
  }

  /** The ICE-TCP port (usually {@link port}'s number), or undefined without ICE-TCP. */
  get tcpPort(): number | undefined {
    return this.#tcp?.addr.port;
  }

  /** Why the TCP port could not be had (the mux then serves UDP only), or undefined. */
  get tcpError(): string | undefined {
    return this.#tcpError;
  }

  /** Current counters. */
  stats(): IceMuxStats {
    let relays = 0;
    let tcpRelays = 0;
    for (const s of this.#sessions.values()) {
      if (s.carried) relays++;
      if (s.tcp) tcpRelays++;
    }
    return { sessions: this.#sessions.size, relays, tcpRelays, dropped: this.#dropped };
  }

  /**
   * Whether a session is registered under `ufrag` (strom's ufrag of the session).
   *
   * @example
   * ```ts
   * const ufrag = newIceUfrag((u) => mux.has(u));
   * ```
   */
  has(ufrag: string): boolean {
    return this.#sessions.has(ufrag);
  }

  /**
   * Routes STUN requests for `ufrag` (strom's side of the session) to `target`, through a relay
   * socket bound now on the target's host. The first peer address whose check reaches the port
   * carries the session; checks from the peer's other addresses are dropped (they fail on the
   * peer's side), because with two paths werift could start DTLS on a different pair than the one
   * the peer nominated. Returns the function that unregisters it (call it when the session ends).
   *
   * @throws {Error} when `maxSessions` are registered or the ufrag is in use.
   */
  register(ufrag: string, target: MuxTarget): () => void {
    if (this.#closed) throw new Error("the WebRTC ICE port is closed (server shutting down)");
    if (this.#sessions.has(ufrag)) throw new Error(`ICE ufrag "${ufrag}" is already registered on the shared port`);
    if (this.#sessions.size >= this.#maxSessions) {
      throw new Error(`the shared ICE port has ${this.#maxSessions} sessions: raise webrtc.max_peers or close some`);
    }
    const session = new Session({ ...target });
    this.#sessions.set(ufrag, session);
    this.#openRelay(session);
    return () => {
      if (this.#sessions.get(ufrag) !== session) return;
      this.#sessions.delete(ufrag);
      this.#forget(session);
    };
  }

  /** Closes the public socket and every relay. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.#sessions.values()) s.close();
    this.#sessions.clear();
    this.#byRemote.clear();
    this.#socket.close();
    void this.#tcp?.close().catch(() => {});
    for (const conn of this.#tcpConns) conn.destroy();
    this.#tcpConns.clear();
  }

  /** The session a binding request names (`<our ufrag>:<theirs>`), or undefined. */
  #sessionOf(data: Uint8Array): Session | undefined {
    const username = stunUsername(data);
    const colon = username?.indexOf(":") ?? -1;
    return colon > 0 ? this.#sessions.get(username!.slice(0, colon)) : undefined;
  }

  readonly #onTcp = (conn: TcpConn): void => {
    if (this.#closed || this.#unidentified >= MAX_UNIDENTIFIED_TCP) {
      this.#dropped++;
      conn.destroy();
      return;
    }
    this.#unidentified++;
    this.#tcpConns.add(conn);
    conn.setNoDelay(true);
    let session: Session | undefined;
    let waiting = true;
    const identified = () => {
      if (!waiting) return;
      waiting = false;
      this.#unidentified--;
      clearTimeout(timer);
    };
    const refuse = () => {
      this.#dropped++;
      identified();
      conn.destroy();
    };
    const timer = setTimeout(refuse, TCP_IDENTIFY_MS);
    const reader = new FrameReader();
    const onFrame = (frame: Uint8Array): boolean => {
      if (session) {
        session.forward(frame);
        return true;
      }
      const s = this.#sessionOf(frame);
      if (!s || s.carried || s.closed) {
        refuse();
        return false;
      }
      identified();
      session = s;
      s.tcp = conn;
      s.forward(frame);
      return true;
    };
    conn.read((chunk) => reader.push(chunk, onFrame), () => {
      identified();
      this.#tcpConns.delete(conn);
      // The peer may connect again (its next check names the session); else the session ends on silence.
      if (session?.tcp === conn) session.tcp = undefined;
    });
  };

  readonly #onPublic = (data: Uint8Array, from: NetAddr): void => {
    const known = this.#byRemote.get(from.hostname)?.get(from.port);
    if (known !== undefined) {
      known.forward(data);
      return;
    }
    const session = this.#sessionOf(data);
    if (!session || session.carried) {
      this.#dropped++;
      return;
    }
    session.remote = { hostname: from.hostname, port: from.port };
    let ports = this.#byRemote.get(from.hostname);
    if (!ports) this.#byRemote.set(from.hostname, (ports = new Map()));
    ports.set(from.port, session);
    session.forward(data);
  };

  #openRelay(session: Session): void {
    const target = session.target;
    // The relay lives on the werift socket's host, so it can reach it (loopback for a wildcard bind).
    udpBind({ hostname: target.hostname, port: 0 }).then((socket) => {
      if (session.closed || this.#closed) {
        socket.close();
        return;
      }
      session.socket = socket;
      const pub = this.#socket;
      // werift → peer. Before the peer is known werift has nobody to send to, so nothing is lost.
      // true: `data` is no longer referenced (sent, copied into a TCP frame, or dropped).
      const toPeer = (data: Uint8Array): boolean => {
        const remote = session.remote;
        if (remote) return pub.send(data, remote.port, remote.hostname);
        const tcp = session.tcp;
        if (!tcp) return true;
        if (tcp.bufferedAmount > TCP_MAX_QUEUED || data.length > MAX_FRAME) this.#dropped++;
        else tcp.write(frameOf(data));
        return true;
      };
      socket.onMessage = toPeer;
      if (target.direct) {
        // What werift takes the peer for: the relay's address as seen from werift's socket.
        const h = socket.addr.hostname;
        const relay = { hostname: h === "0.0.0.0" ? "127.0.0.1" : h === "::" ? "::1" : h, port: socket.addr.port };
        try {
          target.direct.attach({ relay, send: toPeer });
          session.relay = relay;
        } catch { /* the session's socket is gone: the loopback hop still works */ }
      }
      const pending = session.pending ?? [];
      session.pending = undefined;
      for (const d of pending) session.forward(d);
    }, () => {
      // Out of ports next to werift: the session cannot use the shared port; its ICE times out.
      this.#dropped++;
      session.close();
    });
  }

  #forget(session: Session): void {
    session.close();
    const remote = session.remote;
    if (!remote) return;
    const ports = this.#byRemote.get(remote.hostname);
    if (ports?.get(remote.port) === session) {
      ports.delete(remote.port);
      if (ports.size === 0) this.#byRemote.delete(remote.hostname);
    }
  }
}
