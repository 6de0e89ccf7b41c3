/**
 * UDP sockets on `node:dgram` (udp.ts's default, and multicast.ts): binding, and a socket shaped as
 * a {@link UdpSocket}. Kept apart from udp.ts so the published declarations of udp.ts do not name
 * `node:dgram` types.
 *
 * @module
 */
import * as dgram from "node:dgram";
import { lookup as dnsLookup } from "node:dns";
import { isIP } from "node:net";
import { netAddr, plainHost } from "./_address.ts";
import { formatAddress } from "./address.ts";
import { type NetAddr, toNetError } from "./net_error.ts";
import type { UdpSocket } from "./udp.ts";

// Shared send callback: passing one keeps send errors off the 'error' event without a closure per packet.
const ignore = () => {};

type LookupCallback = (error: Error | null, address: string, family: number) => void;

/**
 * node:dgram resolves the address of every send through `dns.lookup`, which for an IP address
 * answers on the next tick: a tick and a closure per datagram. An IP address is answered at once
 * here; names still go to `dns.lookup`.
 */
function lookupV4(hostname: string, options: unknown, callback: LookupCallback): void {
  if (isIP(hostname) === 4) callback(null, hostname, 4);
  else nameLookup(hostname, options, callback);
}

/**
 * Name lookups started: a send whose lookup went to `dns.lookup` still holds its data when
 * `send()` returns, which {@link DgramSocket.send} sees by this count changing.
 */
let nameLookups = 0;

function nameLookup(hostname: string, options: unknown, callback: LookupCallback): void {
  nameLookups++;
  dnsLookup(hostname, options as number, callback as never);
}

/**
 * Node's `dgram` sends at once when its queue is empty (`uv_udp_try_send`) and queues a request
 * holding the data otherwise, which `getSendQueueCount()` counts. Deno's and Bun's `node:dgram`
 * are other implementations: there a sent buffer is never taken as released.
 */
const queueCountIsExact = !("Deno" in globalThis) && !("Bun" in globalThis);

/**
 * As {@link lookupV4} for a udp6 socket. `from` reports IPv4 peers of a dual-stack socket as plain
 * IPv4, which a udp6 socket cannot send to (EINVAL): they are mapped back (`::ffff:a.b.c.d`).
 */
function lookupV6(hostname: string, options: unknown, callback: LookupCallback): void {
  const family = isIP(hostname);
  if (family === 6) callback(null, hostname, 6);
  else if (family === 4) callback(null, `::ffff:${hostname}`, 6);
  else nameLookup(hostname, options, callback);
}

/** A `node:dgram` socket as a {@link UdpSocket} (multicast.ts extends it). */
export class DgramSocket implements UdpSocket {
  readonly addr: NetAddr;
  onMessage: ((data: Uint8Array, from: NetAddr) => void) | undefined = undefined;
  readonly #socket: dgram.Socket;
  #closed = false;

  constructor(socket: dgram.Socket) {
    this.#socket = socket;
    const a = socket.address();
    this.addr = netAddr(a.address, a.port);
    socket.on("message", (msg: Uint8Array, rinfo: dgram.RemoteInfo) => {
      const handler = this.onMessage;
      if (handler === undefined) return;
      handler(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength), {
        hostname: plainHost(rinfo.address),
        port: rinfo.port,
      });
    });
    socket.on("close", () => (this.#closed = true));
  }

  send(data: Uint8Array, port: number, hostname: string): boolean {
    if (this.#closed) return true;
    const lookups = nameLookups;
    const socket = this.#socket;
    socket.send(data, port, hostname, ignore);
    return queueCountIsExact && lookups === nameLookups && socket.getSendQueueCount() === 0;
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
 * Creates and binds a `node:dgram` socket (IP addresses resolved at once, see {@link lookupV4}).
 * Rejects with a {@link NetError} naming the address when it cannot bind.
 */
export function bindDgram(
  type: "udp4" | "udp6",
  hostname: string,
  port: number,
  options: { reuseAddr?: boolean } = {},
): Promise<dgram.Socket> {
  const address = formatAddress(hostname, port);
  return new Promise<dgram.Socket>((resolve, reject) => {
    const socket = dgram.createSocket({
      type,
      lookup: type === "udp6" ? lookupV6 : lookupV4,
      reuseAddr: options.reuseAddr,
    });
    const onError = (error: unknown) => {
      socket.off("listening", onListening);
      try {
        socket.close();
      } catch { /* never bound */ }
      reject(toNetError(error, "bind UDP", address));
    };
    const onListening = () => {
      socket.off("error", onError);
      // Send failures and ICMP errors surface here on some platforms; UDP is lossy, so drop them.
      socket.on("error", ignore);
      resolve(socket);
    };
    socket.once("error", onError);
    socket.once("listening", onListening);
    try {
      socket.bind({ address: hostname, port });
    } catch (error) {
      onError(error);
    }
  });
}
