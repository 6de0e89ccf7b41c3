/**
 * UDP sockets on `node:dgram`, shaped for RTP: one settable callback per datagram (no streams, no
 * promise per packet) and a fire-and-forget `send`. On Deno with unstable net enabled
 * (`--unstable-net`), Deno's own datagram socket instead (_deno_udp.ts): its `node:dgram` is an
 * order of magnitude slower per datagram. On Bun, Bun's own `Bun.udpSocket` (_bun_udp.ts), which
 * costs less CPU per send than its `node:dgram` emulation; `STROM_BUN_UDP=dgram` selects
 * `node:dgram` there instead, for comparison.
 *
 * @module
 */
import * as dgram from "node:dgram";
import { lookup as dnsLookup } from "node:dns";
import { isIP } from "node:net";
import { netAddr, plainHost } from "./_address.ts";
import { formatAddress } from "./address.ts";
import { type NetAddr, toNetError } from "./net_error.ts";
import { denoListenDatagram, denoUdpBind } from "./_deno_udp.ts";
import { bunUdpBind, bunUdpSocket } from "./_bun_udp.ts";
import { getEnv } from "./env.ts";

/** A bound UDP socket. */
export interface UdpSocket {
  /** The bound address; `port` is the real port when 0 was asked for. */
  readonly addr: NetAddr;
  /**
   * Sends one datagram. Never throws for network conditions: UDP is lossy, so send failures
   * (unreachable host...) are dropped. Returns `true` when the socket kept no reference to `data`
   * (the kernel copied it, or it was dropped), so the caller may reuse the buffer at once; `false`
   * when the socket still holds `data` (it may be sent later): leave it unmodified from then on.
   */
  send(data: Uint8Array, port: number, hostname: string): boolean;
  /**
   * Called once per received datagram. `data` is a view valid for as long as the callee keeps it;
   * `from` is a fresh object. Unset (`undefined`) drops datagrams.
   */
  onMessage: ((data: Uint8Array, from: NetAddr) => void) | undefined;
  /** Closes the socket. Idempotent. */
  close(): void;
  [Symbol.dispose](): void;
}

/** Options of {@link udpBind}. */
export interface UdpBindOptions {
  /** Default `"0.0.0.0"` (`"::"` when `type` is `"udp6"`). */
  hostname?: string;
  /** 0 picks a free port. */
  port: number;
  /** Default: `"udp6"` when `hostname` contains `:`, else `"udp4"`. */
  type?: "udp4" | "udp6";
}

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
 * Binds a UDP socket. Rejects with a {@link NetError} naming the address when it cannot.
 *
 * @example
 * ```ts
 * using sock = await udpBind({ hostname: "127.0.0.1", port: 0 });
 * sock.onMessage = (data, from) => console.log(data.byteLength, from.port);
 * sock.send(new Uint8Array([1, 2, 3]), 5004, "127.0.0.1");
 * ```
 */
export function udpBind(o: UdpBindOptions): Promise<UdpSocket> {
  const type = o.type ?? (o.hostname?.includes(":") ? "udp6" : "udp4");
  const hostname = o.hostname ?? (type === "udp6" ? "::" : "0.0.0.0");
  const address = formatAddress(hostname, o.port);
  const listen = denoListenDatagram();
  if (listen) {
    try {
      return Promise.resolve(denoUdpBind(listen, hostname, o.port));
    } catch (error) {
      return Promise.reject(toNetError(error, "bind UDP", address));
    }
  }
  const bun = bunUdpSocket();
  if (bun && getEnv("STROM_BUN_UDP") !== "dgram") {
    return bunUdpBind(bun, hostname, o.port).catch((error) => {
      throw toNetError(error, "bind UDP", address);
    });
  }
  return bindDgram(type, hostname, o.port).then((socket) => new DgramSocket(socket));
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
