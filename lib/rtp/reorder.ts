/**
 * Reordering of RTP packets received over UDP, where datagrams can arrive out of order, twice, or
 * not at all. A pure processor: `push(packet)` hands packets to the `onPacket` callback given at
 * construction, in sequence-number order, synchronously. It never waits on a clock; instead it holds
 * at most `maxDelay` packets behind a missing one and then gives up on the hole. Call `flush()` from a
 * timer or at end of stream to release what is held.
 *
 * ```text
 *   expected                          window (capacity slots, indexed by seq & (capacity - 1))
 *      v
 *   [ hole | 101 | 102 | hole | 104 | ... ]    -> emits nothing until 100 arrives, or until
 *                                                 maxDelay packets wait (then 100 counts as lost)
 * ```
 *
 * Sequence numbers are compared modulo 2^16 (RFC 3550 appendix A.1), so wraparound from 65535 to 0 is
 * seamless. A jump larger than `maxJump` (or further back than the window) is taken as a restart of
 * the sender once the following packet confirms it, as in the RFC's probation logic.
 *
 * @module
 */
import type { RtpPacket } from "./packet.ts";

/** Options of {@link ReorderBuffer}. */
export interface ReorderBufferOptions {
  /** Receives packets in order. Called synchronously from `push()`/`flush()`. */
  onPacket: (pkt: RtpPacket) => void;
  /** Window size in packets, rounded up to a power of two (default 64, at least 4). */
  capacity?: number;
  /**
   * Packets held behind a missing one before it is declared lost (default 16). Bounds the added
   * latency: about 16 packets is 320 ms of 20 ms audio, or one or two video frames.
   */
  maxDelay?: number;
  /** Largest forward jump still treated as loss rather than a sender restart (default 3000, RFC 3550 A.1). */
  maxJump?: number;
}

/**
 * Restores sequence order of RTP packets from UDP. Counts what it had to repair.
 *
 * @example
 * ```ts
 * const reorder = new ReorderBuffer({ onPacket: (pkt) => depacketizer.push(pkt) });
 * socket.onMessage = (data) => reorder.push(parseRtp(data));
 * setInterval(() => reorder.flush(), 200); // optional: bound the wait in time as well
 * ```
 */
export class ReorderBuffer {
  /** Packets pushed. */
  received = 0;
  /** Packets handed to `onPacket`. */
  emitted = 0;
  /** Sequence numbers given up on (never arrived within the window). */
  lost = 0;
  /** Packets that arrived after their slot was passed (dropped), including unconfirmed far jumps. */
  late = 0;
  /** Packets that were already buffered or emitted (dropped). */
  duplicate = 0;
  /** Times the sender restarted its sequence (a confirmed far jump). */
  resyncs = 0;

  readonly capacity: number;
  readonly maxDelay: number;
  readonly maxJump: number;
  readonly #onPacket: (pkt: RtpPacket) => void;
  readonly #mask: number;
  readonly #slots: (RtpPacket | undefined)[];
  /** Sequence number emitted from each slot, or -1: tells a duplicate from a late packet. */
  readonly #history: Int32Array;
  #size = 0;
  #expected = 0;
  #started = false;
  /** A far-off packet waiting for the next one to confirm the jump. */
  #probation: RtpPacket | undefined;

  constructor(opts: ReorderBufferOptions) {
    let cap = 4;
    while (cap < (opts.capacity ?? 64)) cap <<= 1;
    if (cap > 16384) throw new RangeError(`ReorderBuffer capacity ${opts.capacity} is too large (max 16384)`);
    this.capacity = cap;
    this.#mask = cap - 1;
    this.maxDelay = Math.max(1, Math.min(opts.maxDelay ?? 16, cap - 1));
    this.maxJump = Math.max(cap, Math.min(opts.maxJump ?? 3000, 0x7fff));
    this.#onPacket = opts.onPacket;
    this.#slots = new Array(cap).fill(undefined);
    this.#history = new Int32Array(cap).fill(-1);
  }

  /** Packets currently held. */
  get size(): number {
    return this.#size;
  }

  /** Accepts one packet; emits every packet that is now in order. */
  push(pkt: RtpPacket): void {
    this.received++;
    const seq = pkt.sequenceNumber & 0xffff;
    if (!this.#started) {
      this.#started = true;
      this.#expected = seq;
    }
    const d = (((seq - this.#expected) & 0xffff) << 16) >> 16;
    if (d < -this.capacity || d > this.maxJump) {
      const held = this.#probation;
      if (held && ((held.sequenceNumber + 1) & 0xffff) === seq) {
        // Two consecutive packets agree: the sender restarted. Release the old stream, start anew.
        this.#probation = undefined;
        this.flush();
        this.resyncs++;
        this.#history.fill(-1);
        this.#expected = held.sequenceNumber & 0xffff;
        this.#store(held);
        this.#store(pkt);
        this.#drain();
        return;
      }
      if (held) this.late++;
      this.#probation = pkt;
      return;
    }
    if (this.#probation) {
      this.late++;
      this.#probation = undefined;
    }
    if (d < 0) {
      if (this.#history[seq & this.#mask] === seq) this.duplicate++;
      else this.late++;
      return;
    }
    if (d >= this.capacity) {
      // Burst loss: move the window forward until this packet fits.
      while (((((seq - this.#expected) & 0xffff) << 16) >> 16) >= this.capacity) this.#advance();
    }
    const slot = seq & this.#mask;
    if (this.#slots[slot] !== undefined) {
      this.duplicate++;
      return;
    }
    this.#store(pkt);
    if (seq === this.#expected) this.#drain();
    else if (this.#size >= this.maxDelay) this.#skipHoles();
  }

  /** Emits everything held, in order, declaring the holes between them lost. */
  flush(): void {
    while (this.#size > 0) this.#skipHoles();
  }

  /** Forgets all state and held packets (without emitting them); the next packet starts afresh. */
  reset(): void {
    this.#slots.fill(undefined);
    this.#history.fill(-1);
    this.#size = 0;
    this.#started = false;
    this.#probation = undefined;
  }

  #store(pkt: RtpPacket): void {
    this.#slots[pkt.sequenceNumber & this.#mask] = pkt;
    this.#size++;
  }

  /** Emits the run of consecutive packets starting at `expected`. */
  #drain(): void {
    for (;;) {
      const slot = this.#expected & this.#mask;
      const pkt = this.#slots[slot];
      if (pkt === undefined) return;
      this.#emit(slot, pkt);
    }
  }

  /** Gives up on the holes before the first held packet, then emits the run from there. */
  #skipHoles(): void {
    if (this.#size === 0) return;
    while (this.#slots[this.#expected & this.#mask] === undefined) this.#skip(this.#expected & this.#mask);
    this.#drain();
  }

  /** Moves `expected` one step: emits the packet there or declares it lost. */
  #advance(): void {
    const slot = this.#expected & this.#mask;
    const pkt = this.#slots[slot];
    if (pkt === undefined) this.#skip(slot);
    else this.#emit(slot, pkt);
  }

  /** Emits `pkt`, held in `slot` for sequence number `expected`, and moves `expected` on. */
  #emit(slot: number, pkt: RtpPacket): void {
    this.#slots[slot] = undefined;
    this.#size--;
    this.#history[slot] = this.#expected;
    this.#expected = (this.#expected + 1) & 0xffff;
    this.emitted++;
    this.#onPacket(pkt);
  }

  /** Declares sequence number `expected` (empty `slot`) lost and moves `expected` on. */
  #skip(slot: number): void {
    this.#history[slot] = -1;
    this.#expected = (this.#expected + 1) & 0xffff;
    this.lost++;
  }
}
