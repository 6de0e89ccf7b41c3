/**
 * IPv4 UDP sockets for multicast discovery protocols (WS-Discovery): a socket that joins a group on
 * chosen interfaces, or one that sends to a group out of one chosen interface. `node:dgram` on every
 * runtime (Node, Deno with `--unstable-net`, Bun all implement its multicast calls); these carry a
 * few datagrams a minute, so the per-datagram cost that makes `udp.ts` use native sockets does not
 * matter here.
 *
 * @module
 */
import type * as dgram from "node:dgram";
import { bindDgram, DgramSocket } from "./_dgram.ts";
import type { UdpSocket } from "./udp.ts";

/** A bound multicast-capable UDP socket. */
export interface MulticastSocket extends UdpSocket {
  /** Joins `group` on the interface with IPv4 address `iface`; false when the system refused (it says why in `error`). */
  join(group: string, iface: string): { ok: true } | { ok: false; error: string };
  /** Leaves `group` on the interface with IPv4 address `iface`; best effort (an interface that is gone left it already). */
  leave(group: string, iface: string): void;
}

/** Options of {@link multicastBind}. */
export interface MulticastBindOptions {
  /** Local IPv4 address to bind; default `"0.0.0.0"` (needed to receive a group's datagrams). */
  hostname?: string;
  /** 0 picks a free port. Shared with other sockets on the same port (SO_REUSEADDR), as discovery listeners are. */
  port: number;
  /** IPv4 address of the interface multicast datagrams leave from; default: the system's route. */
  multicastInterface?: string;
  /** Hops a sent multicast datagram may take; default 1 (the local link). */
  ttl?: number;
}

class DgramMulticastSocket extends DgramSocket implements MulticastSocket {
  readonly #dgram: dgram.Socket;

  constructor(socket: dgram.Socket) {
    super(socket);
    this.#dgram = socket;
  }

  join(group: string, iface: string): { ok: true } | { ok: false; error: string } {
    try {
      this.#dgram.addMembership(group, iface);
      return { ok: true };
    } catch (error) {
      return { ok: false, error: error instanceof Error ? error.message : String(error) };
    }
  }

  leave(group: string, iface: string): void {
    try {
      this.#dgram.dropMembership(group, iface);
    } catch {
      // Gone with its interface or address.
    }
  }
}

/**
 * Binds an IPv4 UDP socket for multicast. Rejects with a `NetError` naming the address when it
 * cannot bind or set the multicast options.
 *
 * @example
 * ```ts
 * // Listen for WS-Discovery probes arriving on eth0's address 192.168.1.5.
 * using sock = await multicastBind({ port: 3702 });
 * sock.join("239.255.255.250", "192.168.1.5");
 * sock.onMessage = (data, from) => console.log(data.byteLength, "bytes from", from.hostname);
 * ```
 */
export async function multicastBind(o: MulticastBindOptions): Promise<MulticastSocket> {
  const socket = await bindDgram("udp4", o.hostname ?? "0.0.0.0", o.port, { reuseAddr: true });
  try {
    socket.setMulticastTTL(o.ttl ?? 1);
    if (o.multicastInterface) socket.setMulticastInterface(o.multicastInterface);
  } catch (error) {
    socket.close();
    throw error;
  }
  return new DgramMulticastSocket(socket);
}
