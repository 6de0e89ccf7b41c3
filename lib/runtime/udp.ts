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
import { bindDgram, DgramSocket } from "./_dgram.ts";
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
