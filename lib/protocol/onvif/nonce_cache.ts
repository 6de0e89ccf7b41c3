/**
 * Replay protection for WS-Security UsernameToken digests: the nonces a device has accepted, kept
 * while their token could still pass the clock check, so a token captured on the network cannot be
 * sent again (UsernameToken Profile 1.1, section 3.1: used nonces should be cached for at least the
 * timestamp freshness period). Transport-free and bounded: entries leave when their `Created` leaves
 * the window (pruned on use, no timer), and past `maxEntries` the oldest is dropped.
 *
 * @module
 */
import { base64ToBytes, bytesToBase64, concatBytes } from "../../core/bytes.ts";
import { USERNAME_TOKEN_WINDOW_MS, type UsernameToken } from "./server.ts";

/** Options of {@link NonceCache}. */
export interface NonceCacheOptions {
  /** How long after its `Created` a nonce is remembered, in ms. Default {@link USERNAME_TOKEN_WINDOW_MS}. */
  windowMs?: number;
  /** Most nonces remembered at once; the oldest goes first. Default 10 000. */
  maxEntries?: number;
  /** Clock (tests). */
  now?: () => number;
}

/**
 * The nonces of digest tokens that already logged in, whatever the account (a token verifies under
 * any account with the same password). Record a token only after its digest verified, so a wrong
 * password cannot claim a nonce before the real user sends it.
 *
 * @example
 * ```ts
 * const nonces = new NonceCache();
 * if ((await verifyUsernameToken(token, password)) === true) {
 *   const fresh = await nonces.record(token);
 *   if (fresh !== true) console.log(fresh); // "the token was replayed (...)"
 * }
 * ```
 */
export class NonceCache {
  readonly #window: number;
  readonly #max: number;
  readonly #now: () => number;
  /** Key -> when the entry expires (ms); Map order is insertion order, oldest first. */
  readonly #entries = new Map<string, number>();

  constructor(options: NonceCacheOptions = {}) {
    this.#window = options.windowMs ?? USERNAME_TOKEN_WINDOW_MS;
    this.#max = Math.max(1, options.maxEntries ?? 10_000);
    this.#now = options.now ?? Date.now;
  }

  /** How many nonces are remembered (expired ones count until pruned). */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Records a verified digest token's nonce: true when no account has used it within the window,
   * else the reason (a replay). Text tokens carry the password itself and are not recorded.
   */
  async record(token: UsernameToken): Promise<true | string> {
    if (token.type === "text") return true;
    const key = await keyOf(token);
    // From here on synchronous: of two requests with the same nonce at once, one wins.
    const now = this.#now();
    this.#prune(now);
    const expires = this.#entries.get(key);
    if (expires !== undefined && expires >= now) {
      return `the token was replayed (its Nonce was already used in the last ${
        Math.round(this.#window / 1000)
      } s): the client must send a fresh Nonce and Created with every request`;
    }
    const created = Date.parse(token.created);
    this.#entries.delete(key);
    this.#entries.set(key, (Number.isNaN(created) ? now : created) + this.#window);
    if (this.#entries.size > this.#max) {
      for (const [k, t] of this.#entries) if (t < now) this.#entries.delete(k);
      while (this.#entries.size > this.#max) {
        this.#entries.delete(this.#entries.keys().next().value as string);
      }
    }
    return true;
  }

  // Drops expired entries from the oldest end. Tokens arrive roughly in Created order, so this
  // frees most; one made ahead of the clock may hold later ones back until the cap sweeps them.
  #prune(now: number): void {
    for (const [k, t] of this.#entries) {
      if (t >= now) break;
      this.#entries.delete(k);
    }
  }
}

const UTF8 = new TextEncoder();

// A fixed-size key for a token: SHA-256 of its nonce, so an accepted token with a huge Nonce cannot
// make an entry large. The user is not part of it: the digest covers the nonce, Created and password
// but not the user name, so a captured token is just as valid under another account with the same
// password, and must be refused there too. The nonce counts as its bytes, since the digest is made
// over them (base64 spelled with white space or other padding bits is the same nonce). A token
// without a Nonce is known by its Created and digest: two accounts logging in in the same second
// then differ unless they share the password, when the token is theirs to replay anyway.
async function keyOf(token: UsernameToken): Promise<string> {
  let nonce: Uint8Array;
  try {
    nonce = base64ToBytes(token.nonce);
  } catch {
    nonce = UTF8.encode(token.nonce);
  }
  const input = nonce.length
    ? concatBytes([UTF8.encode("n"), nonce])
    : UTF8.encode(`c${token.created.length}:${token.created}${token.password}`);
  return bytesToBase64(new Uint8Array(await crypto.subtle.digest("SHA-256", input)));
}
