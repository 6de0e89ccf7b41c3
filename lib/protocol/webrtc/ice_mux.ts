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
 * Costs: one extra loopback hop per datagram each way (a receive and a send, no copy, no allocation
 * beyond the runtime's own), only when the mux is on. Bounded: one relay per session (the first peer
 * address that reaches the port), a cap on sessions; datagrams from unknown addresses that are not
 * a matching STUN request are dropped and counted; a session's relay closes when it unregisters.
 *
 * @module
 */
import type { NetAddr } from "../../runtime/net_error.ts";
import { type UdpSocket, udpBind } from "../../runtime/udp.ts";

const STUN_MAGIC = 0x2112a442;
const STUN_USERNAME = 0x0006;

/** Where a session's werift socket listens (what the relay sends to). */
export interface MuxTarget {
  hostname: string;
  port: number;
}

/** Counters of {@link IceUdpMux}, for metrics and tests. */
export interface IceMuxStats {
  sessions: number;
  /** Sessions whose peer address is known (ICE reached the port). */
  relays: number;
  /** Datagrams from an unknown address that were not a STUN request for a registered ufrag. */
  dropped: number;
}

/**
 * One session: its relay socket towards werift (bound when the session registers, before the
 * answer leaves, so the peer's first check is forwarded at once) and the peer address it carries.
 */
class Session {
  socket: UdpSocket | undefined;
  remote: NetAddr | undefined;
  /** Datagrams that arrived before the relay socket was bound (bounded). */
  pending: Uint8Array[] | undefined = [];
  closed = false;
  constructor(readonly target: MuxTarget) {}

  forward(data: Uint8Array): void {
    const socket = this.socket;
    if (socket) socket.send(data, this.target.port, this.target.hostname);
    else if (this.pending && this.pending.length < 8) this.pending.push(data.slice());
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = undefined;
    this.socket?.close();
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
  readonly #sessions = new Map<string, Session>();
  /** peer host → peer port → session: two lookups per datagram, no key string built. */
  readonly #byRemote = new Map<string, Map<number, Session>>();
  readonly #maxSessions: number;
  #dropped = 0;
  #closed = false;

  private constructor(socket: UdpSocket, options: IceMuxOptions) {
    this.#socket = socket;
    this.#maxSessions = options.maxSessions ?? 1000;
    socket.onMessage = this.#onPublic;
  }

  /**
   * Binds the public socket.
   *
   * @throws {NetError} when the port is taken (another strom or go2rtc on 8555: change `webrtc.listen`).
   */
  static async bind(options: IceMuxOptions): Promise<IceUdpMux> {
    const socket = await udpBind({ hostname: options.hostname ?? "0.0.0.0", port: options.port });
    return new IceUdpMux(socket, options);
  }

  /** The public port (the real one when 0 was asked for). */
  get port(): number {
    return this.#socket.addr.port;
  }

  /** The public socket's local address. */
  get hostname(): string {
    return this.#socket.addr.hostname;
  }

  /** Current counters. */
  stats(): IceMuxStats {
    let relays = 0;
    for (const s of this.#sessions.values()) if (s.remote) relays++;
    return { sessions: this.#sessions.size, relays, dropped: this.#dropped };
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
  }

  readonly #onPublic = (data: Uint8Array, from: NetAddr): void => {
    const known = this.#byRemote.get(from.hostname)?.get(from.port);
    if (known !== undefined) {
      known.forward(data);
      return;
    }
    const username = stunUsername(data);
    const colon = username?.indexOf(":") ?? -1;
    const session = colon > 0 ? this.#sessions.get(username!.slice(0, colon)) : undefined;
    if (!session || session.remote) {
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
      socket.onMessage = (data: Uint8Array) => {
        const remote = session.remote;
        if (remote) pub.send(data, remote.port, remote.hostname);
      };
      const pending = session.pending ?? [];
      session.pending = undefined;
      for (const d of pending) socket.send(d, target.port, target.hostname);
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
