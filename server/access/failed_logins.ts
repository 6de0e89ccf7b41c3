/**
 * Failed-login rate limiting per client IP: after `maxFailures` wrong passwords within `windowMs`,
 * the IP is refused (HTTP 429, RTSP 429) for `blockMs`, so a password cannot be guessed at line
 * rate. Memory is bounded: at most `maxTracked` IPs are remembered, the oldest dropped first.
 *
 * @module
 */

/** Options of {@link FailedLogins}. */
export interface FailedLoginsOptions {
  /** Wrong passwords allowed per IP within the window. Default 10; 0 turns the limit off. */
  maxFailures?: number;
  /** Window in ms. Default 60 000. */
  windowMs?: number;
  /** How long an IP is refused once over the limit, in ms. Default 60 000. */
  blockMs?: number;
  /** Most IPs tracked at once. Default 10 000. */
  maxTracked?: number;
  /** Clock (tests). */
  now?: () => number;
}

interface Entry {
  failures: number;
  windowStart: number;
  blockedUntil: number;
}

/**
 * The per-IP failure counter.
 *
 * @example
 * ```ts
 * const limiter = new FailedLogins();
 * if (limiter.retryAfter(ip) > 0) return tooManyRequests();
 * if (!ok) limiter.fail(ip); else limiter.succeed(ip);
 * ```
 */
export class FailedLogins {
  readonly #max: number;
  readonly #window: number;
  readonly #block: number;
  readonly #maxTracked: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();

  constructor(options: FailedLoginsOptions = {}) {
    this.#max = options.maxFailures ?? 10;
    this.#window = options.windowMs ?? 60_000;
    this.#block = options.blockMs ?? 60_000;
    this.#maxTracked = options.maxTracked ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  /** Seconds until the IP may try again; 0 when it may now. */
  retryAfter(ip: string | undefined): number {
    if (this.#max <= 0) return 0;
    const entry = this.#entries.get(ip ?? "");
    if (!entry) return 0;
    const left = entry.blockedUntil - this.#now();
    return left > 0 ? Math.ceil(left / 1000) : 0;
  }

  /** Counts a wrong password from the IP. */
  fail(ip: string | undefined): void {
    if (this.#max <= 0) return;
    const key = ip ?? "";
    const now = this.#now();
    let entry = this.#entries.get(key);
    if (!entry || now - entry.windowStart > this.#window) {
      entry = { failures: 0, windowStart: now, blockedUntil: entry?.blockedUntil ?? 0 };
    }
    entry.failures++;
    if (entry.failures >= this.#max) {
      entry.blockedUntil = now + this.#block;
      entry.failures = 0;
      entry.windowStart = now;
    }
    // Re-insert so Map order is least recently failed first.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    while (this.#entries.size > this.#maxTracked) {
      this.#entries.delete(this.#entries.keys().next().value as string);
    }
  }

  /** Forgets the IP's failures after a good password. */
  succeed(ip: string | undefined): void {
    const entry = this.#entries.get(ip ?? "");
    if (entry && entry.blockedUntil <= this.#now()) this.#entries.delete(ip ?? "");
  }
}
