/**
 * UDP on Bun's own datagram socket (`Bun.udpSocket`), used by udp.ts on Bun. Per 1200-byte datagram
 * sent to loopback it costs about 4.3-5 us of CPU through udpBind on the bench machine, Bun's
 * `node:dgram` emulation 7-8 us (scripts/bench/udp_send_cost.ts); WebRTC fan-out sends every RTP
 * packet to every viewer.
 *
 * Sending is synchronous: Bun copies the bytes into the kernel before `send` returns, or returns
 * `false` when the socket buffer is full (counted in `dropped`, as a full kernel queue would
 * drop). It throws where `node:dgram` would report an error event or callback instead (address
 * family mismatch, EMSGSIZE, EACCES for broadcast, a host name instead of an IP): those are
 * caught and the datagram dropped, except host names, which are resolved first as `node:dgram`
 * does. Receiving: with `binaryType: "uint8array"` Bun hands over a fresh `Uint8Array` per
 * datagram, so no copy is needed. ICMP errors (ECONNREFUSED after a send to a closed port) arrive
 * at the `error` handler; without one Bun throws them as uncaught errors, so one is always set.
 *
 * @module
 */
import { lookup } from "node:dns";
import { isIP } from "node:net";
import { plainHost } from "./_address.ts";
import type { NetAddr } from "./net_error.ts";
import type { UdpSocket } from "./udp.ts";

/** The part of Bun's unconnected UDP socket this file uses. */
interface BunUdp {
  /** The bound address (`hostname` is what was asked for, e.g. `localhost`). */
  readonly address: { address: string; port: number };
  send(data: Uint8Array, port: number, address: string): boolean;
  close(): void;
}

interface BunUdpOptions {
  hostname: string;
  port: number;
  binaryType: "uint8array";
  socket: {
    data(socket: BunUdp, data: Uint8Array, port: number, address: string): void;
    error(...args: unknown[]): void;
  };
}

type UdpSocketFn = (o: BunUdpOptions) => Promise<BunUdp>;

/** `Bun.udpSocket` when this is Bun, else undefined. */
export function bunUdpSocket(): UdpSocketFn | undefined {
  const bun = (globalThis as { Bun?: { udpSocket?: UdpSocketFn } }).Bun;
  return typeof bun?.udpSocket === "function" ? bun.udpSocket.bind(bun) : undefined;
}

const ignore = () => {};

class BunUdpSocket implements UdpSocket {
  readonly addr: NetAddr;
  onMessage: ((data: Uint8Array, from: NetAddr) => void) | undefined = undefined;
  /** Datagrams dropped because the socket buffer was full or the send failed. */
  dropped = 0;
  readonly #socket: BunUdp;
  #closed = false;

  constructor(socket: BunUdp) {
    this.#socket = socket;
    this.addr = { hostname: plainHost(socket.address.address), port: socket.address.port };
  }

  /** Called by the socket's `data` handler. */
  receive(data: Uint8Array, port: number, address: string): void {
    const handler = this.onMessage;
    if (handler === undefined || this.#closed) return;
    try {
      handler(data, { hostname: plainHost(address), port });
    } catch { /* the handler's own failure must not reach Bun's error handler as a socket error */ }
  }

  send(data: Uint8Array, port: number, hostname: string): boolean {
    if (this.#closed) return true;
    try {
      // Bun copies the datagram into the kernel (or drops it) before send() returns.
      if (!this.#socket.send(data, port, hostname)) this.dropped++;
      return true;
    } catch {
      // Bun sends to IP addresses only; node:dgram resolves names, so do that here (rare path).
      if (isIP(hostname) === 0 && hostname !== "") {
        this.#resolveAndSend(data, port, hostname);
        return false;
      }
      this.dropped++;
      return true;
    }
  }

  #resolveAndSend(data: Uint8Array, port: number, hostname: string): void {
    // A wildcard IPv6 socket is dual-stack: either family will do.
    const bound = this.addr.hostname;
    const family = isIP(bound) === 4 ? 4 : bound === "::" ? 0 : 6;
    lookup(hostname, { family }, (error, address) => {
      if (error || this.#closed) {
        this.dropped++;
        return;
      }
      try {
        if (!this.#socket.send(data, port, address)) this.dropped++;
      } catch {
        this.dropped++;
      }
    });
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
 * Binds with Bun's own socket; rejects with what Bun throws (an Error with `code` EADDRINUSE...,
 * thrown synchronously by Bun for a literal address). An unresolvable host name (Bun: ENOENT) is
 * reported as ENOTFOUND, as `node:dgram` does.
 */
export async function bunUdpBind(udpSocket: UdpSocketFn, hostname: string, port: number): Promise<UdpSocket> {
  let target: BunUdpSocket | undefined;
  let socket: BunUdp;
  try {
    socket = await udpSocket({
      hostname,
      port,
      binaryType: "uint8array",
      socket: {
        // Datagrams before `target` exists are dropped, as they would be with onMessage unset.
        data: (_socket, data, port, address) => target?.receive(data, port, address),
        // ICMP errors and failures of `data` itself; UDP is lossy, so drop them (as udp.ts does).
        error: ignore,
      },
    });
  } catch (error) {
    const e = error as { code?: unknown } | undefined;
    if (e?.code === "ENOENT" && isIP(hostname) === 0) {
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), {
        code: "ENOTFOUND",
        cause: error,
      });
    }
    throw error;
  }
  return (target = new BunUdpSocket(socket));
}
