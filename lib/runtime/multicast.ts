/**
 * IPv4 UDP sockets for multicast discovery protocols (WS-Discovery): a socket that joins a group on
 * chosen interfaces, or one that sends to a group out of one chosen interface. `node:dgram` on every
 * runtime (Node, Deno with `--unstable-net`, Bun all implement its multicast calls); these carry a
 * few datagrams a minute, so the per-datagram cost that makes `udp.ts` use native sockets does not
 * matter here.
 *
 * @module
 */
import * as dgram from "node:dgram";
import { netAddr, plainHost } from "./_address.ts";
import { formatAddress } from "./address.ts";
import { type NetAddr, toNetError } from "./net_error.ts";

/** A bound multicast-capable UDP socket. */
export interface MulticastSocket {
  /** The bound address; `port` is the real port when 0 was asked for. */
  readonly addr: NetAddr;
  /** Called once per received datagram; `data` is the socket's own copy. */
  onMessage: ((data: Uint8Array, from: NetAddr) => void) | undefined;
  /** Sends one datagram (to a group or a unicast address). Send failures are dropped: UDP is lossy. */
  send(data: Uint8Array, port: number, hostname: string): void;
  /** Joins `group` on the interface with IPv4 address `iface`; false when the system refused (it says why in `error`). */
  join(group: string, iface: string): { ok: true } | { ok: false; error: string };
  /** Closes the socket. Idempotent. */
  close(): void;
  [Symbol.dispose](): void;
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

const ignore = () => {};

class DgramMulticastSocket implements MulticastSocket {
  readonly addr: NetAddr;
  onMessage: ((data: Uint8Array, from: NetAddr) => void) | undefined = undefined;
  readonly #socket: dgram.Socket;
  #closed = false;

  constructor(socket: dgram.Socket) {
    this.#socket = socket;
    const a = socket.address();
    this.addr = netAddr(a.address, a.port);
    socket.on("message", (msg: Uint8Array, rinfo: dgram.RemoteInfo) => {
      this.onMessage?.(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength), {
        hostname: plainHost(rinfo.address),
        port: rinfo.port,
      });
    });
    socket.on("close", () => (this.#closed = true));
  }

  send(data: Uint8Array, port: number, hostname: string): void {
    if (this.#closed) return;
    try {
      this.#socket.send(data, port, hostname, ignore);
    } catch { /* lossy */ }
  }

  join(group: string, iface: string): { ok: true } | { ok: false; error: string } {
    try {
      this.#socket.addMembership(group, iface);
      return { ok: true };
    } catch (error) {
      return { ok: false, error: error instanceof Error ? error.message : String(error) };
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#socket.close();
    } catch { /* already closed */ }
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Binds an IPv4 UDP socket for multicast. Rejects with a `NetError` naming the address when it
 * cannot bind.
 *
 * @example
 * ```ts
 * // Listen for WS-Discovery probes arriving on eth0's address 192.168.1.5.
 * using sock = await multicastBind({ port: 3702 });
 * sock.join("239.255.255.250", "192.168.1.5");
 * sock.onMessage = (data, from) => console.log(data.byteLength, "bytes from", from.hostname);
 * ```
 */
export function multicastBind(o: MulticastBindOptions): Promise<MulticastSocket> {
  const hostname = o.hostname ?? "0.0.0.0";
  const address = formatAddress(hostname, o.port);
  return new Promise<MulticastSocket>((resolve, reject) => {
    const socket = dgram.createSocket({ type: "udp4", reuseAddr: true });
    const onError = (error: unknown) => {
      socket.off("listening", onListening);
      try {
        socket.close();
      } catch { /* never bound */ }
      reject(toNetError(error, "bind UDP", address));
    };
    const onListening = () => {
      socket.off("error", onError);
      socket.on("error", ignore);
      try {
        socket.setMulticastTTL(o.ttl ?? 1);
        if (o.multicastInterface) socket.setMulticastInterface(o.multicastInterface);
      } catch (error) {
        onError(error);
        return;
      }
      resolve(new DgramMulticastSocket(socket));
    };
    socket.once("error", onError);
    socket.once("listening", onListening);
    try {
      socket.bind({ address: hostname, port: o.port });
    } catch (error) {
      onError(error);
    }
  });
}
