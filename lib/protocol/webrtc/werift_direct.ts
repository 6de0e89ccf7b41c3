/**
 * werift's per-peer UDP socket as an in-process endpoint of the shared ICE port
 * ({@link MuxDirect} of ice_mux.ts), so that packets between the mux and werift skip the loopback
 * hop: the mux calls the socket's receive handler itself, and werift's sends to the relay address
 * go to the mux's send function. werift keeps its socket (for anything else it sends, e.g. STUN to
 * a server for a server-reflexive candidate) and never knows the difference.
 *
 * Relies on werift-ice's `UdpTransport` shape (werift ~0.24): `onData(data, [host, port])`, set by
 * its STUN protocol, and an assignable `send(data, [host, port])`. When the shape is not there,
 * {@link weriftDirect} returns undefined and the mux uses the loopback hop.
 *
 * @module
 */
import type { RTCPeerConnection } from "werift";
import type { NetAddr } from "../../runtime/net_error.ts";
import type { UdpSocket } from "../../runtime/udp.ts";
import { asNodeBuffer } from "../../runtime/node_buffer.ts";
import type { MuxDirect } from "./ice_mux.ts";

/** The fields of werift-ice's `UdpTransport` used here. */
interface WeriftUdpTransport {
  type?: string;
  closed?: boolean;
  address?: { port?: number };
  onData: (data: Uint8Array, addr: [string, number]) => void;
  send: (data: Uint8Array, addr?: [string, number]) => Promise<void>;
}

const sent = Promise.resolve();

/** Where each werift socket's sends to its relay address go, while attached to the mux. */
export interface DirectLink {
  /** The relay's address: what werift takes the peer for. */
  relay: NetAddr;
  /**
   * Sends to the peer (synchronously, through the mux's public socket or TCP connection). `true`:
   * nothing holds `data` any more (see {@link UdpSocket.send}), the caller may reuse it.
   */
  send: (data: Uint8Array) => boolean;
}

const links = new WeakMap<object, DirectLink>();

/**
 * The mux link of werift socket `transport` (a candidate pair's `protocol.transport`), while the
 * socket is open and attached: a sender that has the packet in hand can call `send` itself instead
 * of werift's three async hops (ICE connection, STUN protocol, socket) to the same function.
 *
 * @example
 * ```ts
 * const link = directLink(pair.protocol.transport);
 * if (link && pair.remoteAddr[1] === link.relay.port) link.send(packet);
 * ```
 */
export function directLink(transport: unknown): DirectLink | undefined {
  if (typeof transport !== "object" || transport === null) return undefined;
  const link = links.get(transport);
  return link && !(transport as WeriftUdpTransport).closed ? link : undefined;
}

function udpTransport(pc: RTCPeerConnection, port: number): WeriftUdpTransport | undefined {
  for (const ice of pc.iceTransports) {
    const connection = ice.connection as unknown as { protocols?: { transport?: WeriftUdpTransport }[] };
    for (const p of connection.protocols ?? []) {
      const t = p.transport;
      if (t?.type !== "udp" || typeof t.send !== "function" || typeof t.onData !== "function") continue;
      try {
        if (t.address?.port === port) return t;
      } catch { /* not bound */ }
    }
  }
  return undefined;
}

/**
 * The {@link MuxDirect} of the werift socket bound on `port` in `pc`, or undefined when there is
 * none (then the mux relays over loopback).
 *
 * @example
 * ```ts
 * mux.register(ufrag, { hostname: "127.0.0.1", port, direct: weriftDirect(pc, port) });
 * ```
 */
export function weriftDirect(pc: RTCPeerConnection, port: number): MuxDirect | undefined {
  const t = udpTransport(pc, port);
  if (!t) return undefined;
  let original: WeriftUdpTransport["send"] | undefined;
  return {
    deliver(data: Uint8Array, from: NetAddr): void {
      try {
        t.onData(asNodeBuffer(data), [from.hostname, from.port]);
      } catch { /* werift logs and drops what it cannot parse; a throw must not reach the mux */ }
    },
    attach(link): void {
      if (link === undefined) {
        if (original) t.send = original;
        original = undefined;
        links.delete(t);
        return;
      }
      const prev = original ?? t.send;
      original = prev;
      const { relay, send } = link;
      links.set(t, { relay, send });
      t.send = (data, addr) => {
        if (addr === undefined || addr[1] !== relay.port || addr[0] !== relay.hostname || t.closed) return prev(data, addr);
        send(data);
        return sent;
      };
    },
  };
}
