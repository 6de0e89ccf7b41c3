/**
 * UDP on Deno's own datagram socket (`Deno.listenDatagram`), used by udp.ts when Deno offers it
 * (Deno 2 with `--unstable-net`, or `"unstable": ["net"]` in deno.json). Deno's `node:dgram`
 * costs about 127 us per datagram sent to loopback on the bench machine, its own socket about
 * 7-19 us: a WebRTC viewer sends about 430 packets a second.
 *
 * Receiving: one `receive()` at a time into a reusable 64 KiB buffer, each datagram copied out
 * (the {@link UdpSocket} contract lets the callee keep the view). Sending: Deno's send is
 * asynchronous and reads the bytes later. A datagram of up to {@link SLOT_BYTES} is copied into one
 * of the socket's pool buffers, which goes back to the pool when its send completes, and `send()`
 * returns `true`, so the caller reuses its own buffer (a WebRTC viewer's packets: 20 000 a second at
 * 50 viewers, each a fresh ~1.2 KB buffer left to the collector before); a larger one, or one
 * beyond {@link POOL_BUFFERS}, is held as given (`false`: the caller leaves it alone from then on).
 * Failures are dropped like UDP loss. At most {@link MAX_IN_FLIGHT} sends are handed to Deno at
 * once; the rest wait in order in this socket's queue, up to {@link MAX_QUEUED_BYTES}, and go out
 * as sends complete. Beyond that a datagram is dropped, as a full kernel queue would: unbounded, a
 * sender faster than the socket (50 WebRTC viewers on one port on a busy machine) grew the process
 * by gigabytes. The queue is
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
/** The largest datagram copied into a pool buffer (RTP and SRTP packets stay under an MTU of 1 500). */
const SLOT_BYTES = 1536;
/**
 * Pool buffers a socket makes at most (6 MiB): enough for the datagrams of a keyframe burst to 50
 * viewers (~4 250) waiting at once; beyond it the caller's own bytes are queued. A socket's pool
 * keeps what its largest burst needed until the socket closes: memory the burst's datagrams took
 * anyway, now held instead of made again for every frame.
 */
const POOL_BUFFERS = 4096;
/** Bytes waiting in a socket's queue beyond which datagrams are dropped (a few keyframe bursts). */
const MAX_QUEUED_BYTES = 16 * 1024 * 1024;
/** Consecutive receive errors after which the socket gives up receiving (a broken socket, not loss). */
const MAX_RECEIVE_ERRORS = 100;

class DenoUdpSocket implements UdpSocket {
  readonly addr: NetAddr;
  onMessage: ((data: Uint8Array, from: NetAddr) => void) | undefined = undefined;
  readonly #conn: DenoDatagramConn;
  #closed = false;
  // Send slots: each send in flight has one, and its callback (made once) frees it, so a send makes
  // no closure. A slot also holds the pool buffer its datagram was copied into, if any.
  readonly #freeSlots = new Int32Array(MAX_IN_FLIGHT);
  #freeCount = MAX_IN_FLIGHT;
  readonly #slotBuf: (Uint8Array | undefined)[] = new Array(MAX_IN_FLIGHT).fill(undefined);
  readonly #slotDone: (() => void)[] = [];
  // Copies of small datagrams: free buffers, and how many exist (at most POOL_BUFFERS).
  readonly #pool: Uint8Array[] = [];
  #pooled = 0;
  // The queue: datagrams, their pool buffers (or undefined: the caller's own bytes) and their
  // addresses, from #head on, in send order.
  #queueData: Uint8Array[] = [];
  #queueOwn: (Uint8Array | undefined)[] = [];
  #queueAddr: DenoAddr[] = [];
  #head = 0;
  #queuedBytes = 0;
  /** Datagrams dropped because {@link MAX_QUEUED_BYTES} were waiting. */
  dropped = 0;

  constructor(conn: DenoDatagramConn) {
    this.#conn = conn;
    for (let i = 0; i < MAX_IN_FLIGHT; i++) {
      this.#freeSlots[i] = MAX_IN_FLIGHT - 1 - i;
      this.#slotDone.push(() => this.#sent(i));
    }
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
    const size = data.byteLength;
    if (this.#queuedBytes + size > MAX_QUEUED_BYTES) {
      this.dropped++;
      return true;
    }
    const addr: DenoAddr = { transport: "udp", hostname, port };
    // A copy in a pool buffer when the datagram is small and a buffer is free or may be made.
    let own: Uint8Array | undefined;
    if (size <= SLOT_BYTES) {
      own = this.#pool.pop();
      if (own === undefined && this.#pooled < POOL_BUFFERS) {
        own = new Uint8Array(SLOT_BYTES);
        this.#pooled++;
      }
    }
    let bytes = data;
    if (own !== undefined) {
      own.set(data);
      bytes = own.subarray(0, size);
    }
    if (this.#freeCount > 0 && this.#head === this.#queueData.length) {
      this.#start(bytes, own, addr);
    } else {
      this.#queueData.push(bytes);
      this.#queueOwn.push(own);
      this.#queueAddr.push(addr);
      this.#queuedBytes += size;
    }
    return own !== undefined;
  }

  /** Hands one datagram to Deno in a free slot (an async op: Deno reads the bytes later). */
  #start(bytes: Uint8Array, own: Uint8Array | undefined, addr: DenoAddr): void {
    const slot = this.#freeSlots[--this.#freeCount];
    this.#slotBuf[slot] = own;
    const done = this.#slotDone[slot];
    this.#conn.send(bytes, addr).then(done, done);
  }

  /** Hands queued datagrams to Deno, in order, while fewer than {@link MAX_IN_FLIGHT} are in flight. */
  #pump(): void {
    if (this.#closed) return;
    const data = this.#queueData;
    const owns = this.#queueOwn;
    const addrs = this.#queueAddr;
    let head = this.#head;
    while (this.#freeCount > 0 && head < data.length) {
      const d = data[head];
      this.#queuedBytes -= d.byteLength;
      this.#start(d, owns[head], addrs[head]);
      head++;
    }
    if (head === data.length) {
      data.length = 0;
      owns.length = 0;
      addrs.length = 0;
      head = 0;
    } else if (head >= 4096 && head * 2 >= data.length) {
      // Drop the sent part so the arrays do not grow while the queue never quite empties.
      data.splice(0, head);
      owns.splice(0, head);
      addrs.splice(0, head);
      head = 0;
    }
    this.#head = head;
  }

  /** A send completed (or failed): its slot, and its pool buffer, are free again. */
  #sent(slot: number): void {
    if (this.#closed) return;
    const own = this.#slotBuf[slot];
    if (own !== undefined) {
      this.#slotBuf[slot] = undefined;
      this.#pool.push(own);
    }
    this.#freeSlots[this.#freeCount++] = slot;
    if (this.#head < this.#queueData.length) this.#pump();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queueData = [];
    this.#queueOwn = [];
    this.#queueAddr = [];
    this.#pool.length = 0;
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
