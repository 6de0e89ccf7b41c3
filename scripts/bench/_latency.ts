/**
 * Added-latency measurement for the fan-out bench.
 *
 * Method: the reader process holds one extra connection straight to the camera (the "tap") beside
 * the N readers of the server under test. Every RTP packet that ENDS a coded slice (a single-NAL
 * packet of NAL type 1/5, or the FU-A fragment with the E bit of such a NAL, RFC 6184 §5.8) is keyed
 * by the last 8 bytes of its payload: the tail of entropy-coded slice data, which is the same bytes
 * whichever way a relay re-packetizes (FU-A boundaries, MTU), re-numbers (sequence, SSRC) or
 * re-times (RTP timestamp) the stream. For each key we remember when the tap saw it; when a reader
 * sees the same key, `reader time - tap time` is the latency the relay added for that frame. Both
 * times come from `performance.now()` of the same process, so no clock sync is involved.
 *
 * What it measures: from "last byte of a frame available from the camera" to "last byte of that
 * frame arrived at a viewer", i.e. the relay's processing and queueing plus one loopback hop, and the
 * reader process's own event-loop delay (which is the same for every server, see the raw relay).
 *
 * A reader can see a key before the tap does (both sockets became readable in the same poll and the
 * reader's was handled first); those keys wait in an "early" map and resolve to a negative or zero
 * latency when the tap catches up. Keys expire after 2-4 s (the clip loops much later).
 *
 * @module
 */

const BIN_US = 10;
const MIN_MS = -5;
const MAX_MS = 1000;
const BINS = Math.ceil(((MAX_MS - MIN_MS) * 1000) / BIN_US);

/** Latency histogram in 10 µs bins from -5 ms to 1 s (values outside are clamped to the edges). */
export class LatencyHistogram {
  readonly bins = new Uint32Array(BINS);
  count = 0;
  sum = 0;
  max = -Infinity;
  min = Infinity;

  add(ms: number): void {
    let i = Math.floor(((ms - MIN_MS) * 1000) / BIN_US);
    if (i < 0) i = 0;
    else if (i >= BINS) i = BINS - 1;
    this.bins[i]++;
    this.count++;
    this.sum += ms;
    if (ms > this.max) this.max = ms;
    if (ms < this.min) this.min = ms;
  }

  /** The q-quantile (0..1) in ms, at the upper edge of its bin. */
  quantile(q: number): number {
    if (!this.count) return NaN;
    const target = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < BINS; i++) {
      seen += this.bins[i];
      if (seen >= target) return MIN_MS + ((i + 1) * BIN_US) / 1000;
    }
    return MAX_MS;
  }

  reset(): void {
    this.bins.fill(0);
    this.count = 0;
    this.sum = 0;
    this.max = -Infinity;
    this.min = Infinity;
  }

  summary(): { samples: number; p50Ms: number; p90Ms: number; p99Ms: number; maxMs: number; meanMs: number } {
    return {
      samples: this.count,
      p50Ms: this.quantile(0.5),
      p90Ms: this.quantile(0.9),
      p99Ms: this.quantile(0.99),
      maxMs: this.count ? this.max : NaN,
      meanMs: this.count ? this.sum / this.count : NaN,
    };
  }
}

/**
 * The key of an RTP packet that ends a coded slice, or -1. `buf[start..end)` is the RTP packet.
 * The key is 53 bits of the payload's last 8 bytes, exact as a JS number.
 */
export function sliceEndKey(buf: Uint8Array, start: number, end: number): number {
  if (end - start < 12 + 10) return -1;
  const b0 = buf[start];
  let p = start + 12 + 4 * (b0 & 0x0f);
  if (b0 & 0x10) {
    if (p + 4 > end) return -1;
    p += 4 + 4 * ((buf[p + 2] << 8) | buf[p + 3]);
  }
  if (b0 & 0x20) end -= buf[end - 1]; // padding
  if (p + 10 > end) return -1;
  const nalType = buf[p] & 0x1f;
  if (nalType === 28) {
    const fu = buf[p + 1];
    if (!(fu & 0x40)) return -1; // not the last fragment
    const t = fu & 0x1f;
    if (t !== 1 && t !== 5) return -1;
  } else if (nalType !== 1 && nalType !== 5) {
    return -1;
  }
  const e = end - 8;
  const hi = ((buf[e] << 24) | (buf[e + 1] << 16) | (buf[e + 2] << 8) | buf[e + 3]) >>> 0;
  const lo = ((buf[e + 4] << 24) | (buf[e + 5] << 16) | (buf[e + 6] << 8) | buf[e + 7]) >>> 0;
  return hi * 2097152 + (lo >>> 11);
}

/** Matches reader arrivals against tap arrivals; see the module comment. */
export class LatencyMatcher {
  readonly histogram = new LatencyHistogram();
  /** Reader keys that the tap never saw within the expiry (lost upstream of the tap, or bogus). */
  unmatched = 0;
  #tapCur = new Map<number, number>();
  #tapPrev = new Map<number, number>();
  #earlyCur = new Map<number, number[]>();
  #earlyPrev = new Map<number, number[]>();
  #recording = false;

  /** Starts a measurement window (clears the histogram). */
  start(): void {
    this.histogram.reset();
    this.unmatched = 0;
    this.#recording = true;
  }

  stop(): void {
    this.#recording = false;
  }

  /** Drops keys older than two rotations; call every ~2 s. */
  rotate(): void {
    for (const list of this.#earlyPrev.values()) if (this.#recording) this.unmatched += list.length;
    this.#tapPrev = this.#tapCur;
    this.#tapCur = new Map();
    this.#earlyPrev = this.#earlyCur;
    this.#earlyCur = new Map();
  }

  tap(key: number, now: number): void {
    this.#tapCur.set(key, now);
    const early = this.#earlyCur.get(key) ?? this.#earlyPrev.get(key);
    if (early) {
      if (this.#recording) { for (const t of early) this.histogram.add(t - now); }
      this.#earlyCur.delete(key);
      this.#earlyPrev.delete(key);
    }
  }

  reader(key: number, now: number): void {
    const t = this.#tapCur.get(key) ?? this.#tapPrev.get(key);
    if (t !== undefined) {
      if (this.#recording) this.histogram.add(now - t);
      return;
    }
    const list = this.#earlyCur.get(key);
    if (list) list.push(now);
    else this.#earlyCur.set(key, [now]);
  }
}
