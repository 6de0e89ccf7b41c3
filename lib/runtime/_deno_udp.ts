/**
 * UDP on Deno's own datagram socket (`Deno.listenDatagram`), used by udp.ts when Deno offers it
 * (Deno 2 with `--unstable-net`, or `"unstable": ["net"]` in deno.json). Deno's `node:dgram`
 * costs about 127 us per datagram sent to loopback on the bench machine, its own socket about
 * 7-19 us: a WebRTC viewer sends about 430 packets a second.
 *
 * Receiving: one `receive()` at a time into a reusable 64 KiB buffer, each datagram copied out
 * (the {@link UdpSocket} contract lets the callee keep the view). Sending: Deno's send is
 * asynchronous and reads the bytes later, which the contract allows (the caller leaves `data`
 * alone from then on, and strom's senders never reuse a packet's bytes); failures are dropped like
 * UDP loss. At most {@link MAX_IN_FLIGHT} sends are handed to Deno at once; the rest wait in order
 * in this socket's queue, up to {@link MAX_QUEUED_BYTES}, and go out as sends complete. Beyond that a
 * datagram is dropped, as a full kernel queue would: unbounded, a sender faster than the socket
 * (50 WebRTC viewers on one port on a busy machine) grew the process by gigabytes. The queue is
 * what a keyframe needs: 50 WebRTC viewers of a 100 KB keyframe are 4 250 datagrams made in one
 * synchronous burst, which a bound of 2 048 sends in flight and no queue cut in half (the later
 * viewers lost most of every keyframe), and thousands of sends in flight at once go out slower than
 * a few dozen at a time.
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

/**
 * Sends handed to Deno and not yet completed, per socket; further datagrams wait in the queue. Sends
 * that wait together for the socket's readiness (its first, or after the kernel queue was full) can
 * go out in any order among themselves, so this also bounds reordering. 16 to 1 024 moved a burst
 * of 42 500 datagrams equally fast.
 */
const MAX_IN_FLIGHT = 64;
/** Bytes waiting in a socket's queue beyond which datagrams are dropped (a few keyframe bursts). */
const MAX_QUEUED_BYTES = 16 * 1024 * 1024;
/** Consecutive receive errors after which the socket gives up receiving (a broken socket, not loss). */
const MAX_RECEIVE_ERRORS = 100;

class DenoUdpSocket implements UdpSocket {
  readonly addr: NetAddr;
  onMessage: ((data: Uint8Array, from: NetAddr) => void) | undefined = undefined;
  readonly #conn: DenoDatagramConn;
  #closed = false;
  #inFlight = 0;
  // The queue: datagrams and their addresses from #head on, in send order.
  #queueData: Uint8Array[] = [];
  #queueAddr: DenoAddr[] = [];
  #head = 0;
  #queuedBytes = 0;
  /** Datagrams dropped because {@link MAX_QUEUED_BYTES} were waiting. */
  dropped = 0;
  readonly #sent = () => {
    this.#inFlight--;
    if (this.#head < this.#queueData.length) this.#pump();
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
    const addr: DenoAddr = { transport: "udp", hostname, port };
    if (this.#inFlight < MAX_IN_FLIGHT && this.#head === this.#queueData.length) {
      this.#inFlight++;
      // An async op: Deno reads `data` when it runs, after this returns.
      this.#conn.send(data, addr).then(this.#sent, this.#sent);
      return false;
    }
    if (this.#queuedBytes + data.byteLength > MAX_QUEUED_BYTES) {
      this.dropped++;
      return true;
    }
    this.#queueData.push(data);
    this.#queueAddr.push(addr);
    this.#queuedBytes += data.byteLength;
    return false;
  }

  /** Hands queued datagrams to Deno, in order, while fewer than {@link MAX_IN_FLIGHT} are in flight. */
  #pump(): void {
    if (this.#closed) return;
    const data = this.#queueData;
    const addrs = this.#queueAddr;
    let head = this.#head;
    while (this.#inFlight < MAX_IN_FLIGHT && head < data.length) {
      const d = data[head];
      this.#queuedBytes -= d.byteLength;
      this.#inFlight++;
      this.#conn.send(d, addrs[head]).then(this.#sent, this.#sent);
      head++;
    }
    if (head === data.length) {
      data.length = 0;
      addrs.length = 0;
      head = 0;
    } else if (head >= 4096 && head * 2 >= data.length) {
      // Drop the sent part so the arrays do not grow while the queue never quite empties.
      data.splice(0, head);
      addrs.splice(0, head);
      head = 0;
    }
    this.#head = head;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queueData = [];
    this.#queueAddr = [];
    this.#head = 0;
    this.#queuedBytes = 0;
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
