/**
 * UDP on Deno's own datagram socket (`Deno.listenDatagram`), used by udp.ts when Deno offers it
 * (Deno 2 with `--unstable-net`, or `"unstable": ["net"]` in deno.json). Deno's `node:dgram`
 * costs about 127 us per datagram sent to loopback on the bench machine, its own socket about
 * 7-19 us: a WebRTC viewer sends about 430 packets a second.
 *
 * Receiving: one `receive()` at a time into a reusable 64 KiB buffer, each datagram copied out
 * (the {@link UdpSocket} contract lets the callee keep the view). Sending: Deno's send is
 * asynchronous and reads the bytes later, which the contract allows (the caller leaves `data`
 * alone until the next macrotask, and strom's senders never reuse a packet's bytes); failures are
 * dropped like UDP loss. Sends in flight are bounded ({@link MAX_IN_FLIGHT}); beyond that a
 * datagram is dropped, as a full kernel queue would: unbounded, a sender faster than the socket
 * (50 WebRTC viewers on one port on a busy machine) grew the process by gigabytes.
 *
 * @module
 */
import type { NetAddr } from "./net_error.ts";
import type { UdpSocket } from "./udp.ts";
import { plainHost } from "./_address.ts";

interface DenoAddr {
  transport: "udp";
  hostname: string;
  port: number;
}

interface DenoDatagramConn {
  readonly addr: DenoAddr;
  receive(p?: Uint8Array): Promise<[Uint8Array, DenoAddr]>;
  send(p: Uint8Array, addr: DenoAddr): Promise<number>;
  close(): void;
}

type ListenDatagram = (o: { transport: "udp"; hostname: string; port: number }) => DenoDatagramConn;

/** `Deno.listenDatagram` when this is Deno with unstable net enabled, else undefined. */
export function denoListenDatagram(): ListenDatagram | undefined {
  const deno = (globalThis as { Deno?: { listenDatagram?: ListenDatagram } }).Deno;
  return typeof deno?.listenDatagram === "function" ? deno.listenDatagram.bind(deno) : undefined;
}

/** Datagrams handed to Deno and not yet sent, per socket, beyond which sends are dropped. */
const MAX_IN_FLIGHT = 2048;
/** Consecutive receive errors after which the socket gives up receiving (a broken socket, not loss). */
const MAX_RECEIVE_ERRORS = 100;

class DenoUdpSocket implements UdpSocket {
  readonly addr: NetAddr;
  onMessage: ((data: Uint8Array, from: NetAddr) => void) | undefined = undefined;
  readonly #conn: DenoDatagramConn;
  #closed = false;
  #inFlight = 0;
  /** Datagrams dropped because {@link MAX_IN_FLIGHT} were in flight. */
  dropped = 0;
  readonly #sent = () => {
    this.#inFlight--;
  };

  constructor(conn: DenoDatagramConn) {
    this.#conn = conn;
    this.addr = { hostname: conn.addr.hostname, port: conn.addr.port };
    void this.#receiveLoop();
  }

  async #receiveLoop(): Promise<void> {
    const buf = new Uint8Array(65536);
    let errors = 0;
    while (!this.#closed) {
      let got: [Uint8Array, DenoAddr];
      try {
        got = await this.#conn.receive(buf);
        errors = 0;
      } catch {
        if (this.#closed || ++errors >= MAX_RECEIVE_ERRORS) return;
        continue;
      }
      const handler = this.onMessage;
      if (handler === undefined) continue;
      const [view, from] = got;
      try {
        handler(view.slice(), { hostname: plainHost(from.hostname), port: from.port });
      } catch { /* the handler's own failure must not stop the socket */ }
    }
  }

  send(data: Uint8Array, port: number, hostname: string): boolean {
    if (this.#closed) return true;
    if (this.#inFlight >= MAX_IN_FLIGHT) {
      this.dropped++;
      return true;
    }
    this.#inFlight++;
    // An async op: Deno reads `data` when it runs, after this returns.
    this.#conn.send(data, { transport: "udp", hostname, port }).then(this.#sent, this.#sent);
    return false;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** Binds with Deno's own socket; throws what Deno throws (AddrInUse...). */
export function denoUdpBind(listen: ListenDatagram, hostname: string, port: number): UdpSocket {
  return new DenoUdpSocket(listen({ transport: "udp", hostname, port }));
}
