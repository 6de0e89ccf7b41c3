/**
 * The accounts of a running server, checked the same way by every protocol:
 *
 * - `api.username`/`api.password`: an admin for the HTTP API, WebSocket and WHEP/WHIP (go2rtc's API
 *   account).
 * - `api.auth.username` with `password` or a bcrypt `password_hash` (the go2rtc seed article's form):
 *   the same kind of admin.
 * - `rtsp.username`/`rtsp.password`: an admin for RTSP and RTMP (go2rtc's RTSP account); the seed
 *   article's `rtsp.auth.users` list (unless `rtsp.auth.enabled: false`): more such admins.
 * - `api.auth.users`: accounts with a role, the streams they may watch and the streams they may
 *   publish into, on every protocol. `password` is plain text; `password_hash` is bcrypt
 *   (`$2a$`/`$2b$`/`$2y$`).
 * - Bearer tokens: JWTs signed with `api.auth.token_secret` (HS256), carrying the account in their
 *   claims (`sub`, `role`, `streams`, `publish`) and an expiry; `strom token` makes them.
 *
 * bcrypt is slow on purpose (tens of ms per check), so a verified password is remembered for a
 * minute (keyed by a SHA-256 of it, never the password itself): a player that sends credentials on
 * every request pays once, and the media path never waits on it.
 *
 * @module
 */
// bcryptjs and jose load on first use (a password hash or a token to check): most servers have
// neither, and loading both costs ~2 MB of memory in every process (docs/performance.md).
import type { Account } from "./account.ts";
import { bytesToHex } from "../../lib/core/bytes.ts";
import { safeEqual } from "../../lib/core/safe_equal.ts";

/** Where a password was sent: the account sets differ (go2rtc keeps API and RTSP accounts apart). */
export type AuthScope = "http" | "rtsp";

/** The config keys the store reads. */
export interface AccountsConfig {
  api?: {
    username?: string;
    password?: string;
    auth?: {
      username?: string;
      password?: string;
      password_hash?: string;
      token_secret?: string;
      users?: Record<string, { password?: string; password_hash?: string; role?: string; streams?: string[]; publish?: string[] }>;
    };
  };
  rtsp?: {
    username?: string;
    password?: string;
    auth?: { enabled?: boolean; users?: { username: string; password?: string; password_hash?: string }[] };
  };
}

interface PasswordAccount {
  account: Account;
  password?: string;
  hash?: string;
  scopes: readonly AuthScope[];
}

const ALL_SCOPES: readonly AuthScope[] = ["http", "rtsp"];
const BCRYPT = /^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/;

/** The smallest token secret accepted: 32 bytes of text. */
export const MIN_TOKEN_SECRET = 32;

/**
 * A password hash in `password_hash` that is not bcrypt.
 *
 * @example
 * ```ts
 * new AccountStore({ api: { auth: { users: { bob: { password_hash: "md5:x" } } } } }); // throws
 * ```
 */
export class PasswordHashError extends Error {
  override name = "PasswordHashError";
  readonly user: string;
  /** The config key holding the hash. */
  readonly key: string;
  constructor(user: string, key = `api.auth.users.${user}.password_hash`) {
    super(
      `${key} is not a bcrypt hash ($2a$, $2b$ or $2y$ followed by cost and 53 characters). ` +
        `Make one with: strom passwd`,
    );
    this.user = user;
    this.key = key;
  }
}

/**
 * Checks passwords and tokens against the configured accounts.
 *
 * @example
 * ```ts
 * const store = new AccountStore(config);
 * const account = await store.verifyPassword("bob", "secret", "rtsp");
 * if (account && may(account, "read", "cam1")) serve();
 * ```
 */
export class AccountStore {
  readonly #accounts = new Map<string, PasswordAccount[]>();
  readonly #secret: Uint8Array | undefined;
  readonly #cache = new Map<string, { account: Account; expires: number }>();
  readonly #cacheMs: number;

  constructor(config: AccountsConfig, options: { cacheMs?: number } = {}) {
    this.#cacheMs = options.cacheMs ?? 60_000;
    const api = config.api ?? {};
    if (api.username) {
      this.#add(api.username, {
        account: { name: api.username, role: "admin", streams: [], publish: [] },
        password: api.password ?? "",
        scopes: ["http"],
      });
    }
    const seed = api.auth;
    if (seed?.username) {
      this.#addAdmin(seed.username, seed.password ?? "", seed.password_hash, ["http"], "api.auth.password_hash");
    }
    const rtsp = config.rtsp ?? {};
    if (rtsp.username || rtsp.password) {
      const name = rtsp.username ?? "";
      this.#add(name, {
        account: { name, role: "admin", streams: [], publish: [] },
        password: rtsp.password ?? "",
        scopes: ["rtsp"],
      });
    }
    if (rtsp.auth?.enabled !== false) {
      (rtsp.auth?.users ?? []).forEach((u, i) => {
        this.#addAdmin(u.username, u.password ?? "", u.password_hash, ["rtsp"], `rtsp.auth.users[${i}].password_hash`);
      });
    }
    for (const [name, user] of Object.entries(api.auth?.users ?? {})) {
      if (user.password_hash !== undefined && !BCRYPT.test(user.password_hash)) throw new PasswordHashError(name);
      this.#add(name, {
        account: {
          name,
          role: user.role === "admin" ? "admin" : "viewer",
          streams: user.streams ?? [],
          publish: user.publish ?? [],
        },
        password: user.password_hash === undefined ? user.password : undefined,
        hash: user.password_hash,
        scopes: ALL_SCOPES,
      });
    }
    const secret = api.auth?.token_secret;
    if (secret) {
      if (secret.length < MIN_TOKEN_SECRET) {
        throw new RangeError(`api.auth.token_secret must be at least ${MIN_TOKEN_SECRET} characters (it signs bearer tokens); got ${secret.length}.`);
      }
      this.#secret = new TextEncoder().encode(secret);
    }
  }

  /** An admin account with a plain password, or a bcrypt hash (checked instead) when given. */
  #addAdmin(name: string, password: string, hash: string | undefined, scopes: readonly AuthScope[], hashKey: string): void {
    if (hash && !BCRYPT.test(hash)) throw new PasswordHashError(name, hashKey);
    this.#add(name, {
      account: { name, role: "admin", streams: [], publish: [] },
      password: hash ? undefined : password,
      hash: hash || undefined,
      scopes,
    });
  }

  #add(name: string, entry: PasswordAccount): void {
    const list = this.#accounts.get(name) ?? [];
    list.push(entry);
    this.#accounts.set(name, list);
  }

  /**
   * Adds an account that only the server itself uses (e.g. `ffmpeg:<stream>` readers on RTSP).
   *
   * @example
   * ```ts
   * store.addInternal("strom-internal", randomPassword);
   * ```
   */
  addInternal(name: string, password: string): void {
    this.#add(name, { account: { name, role: "admin", streams: [], publish: [] }, password, scopes: ALL_SCOPES });
  }

  /** Whether any account or token secret exists (auth is on for a protocol when it has accounts). */
  hasAccounts(scope: AuthScope): boolean {
    for (const list of this.#accounts.values()) if (list.some((a) => a.scopes.includes(scope))) return true;
    return this.#secret !== undefined;
  }

  /** Whether bearer tokens are accepted (`api.auth.token_secret` is set). */
  get tokens(): boolean {
    return this.#secret !== undefined;
  }

  /**
   * The plain-text password of an account, for RTSP Digest (which needs it); undefined for bcrypt
   * accounts (they log in with Basic) and unknown names.
   */
  plaintextPassword(name: string, scope: AuthScope): string | undefined {
    return this.#accounts.get(name)?.find((a) => a.scopes.includes(scope) && a.password !== undefined)?.password;
  }

  /** The account a Digest login named, once its response was checked against {@link plaintextPassword}. */
  accountNamed(name: string, scope: AuthScope): Account | undefined {
    return this.#accounts.get(name)?.find((a) => a.scopes.includes(scope) && a.password !== undefined)?.account;
  }

  /**
   * The account for a user name and password, or undefined when they do not match.
   *
   * @example
   * ```ts
   * await store.verifyPassword("admin", "pw", "http"); // { name: "admin", role: "admin", ... }
   * ```
   */
  async verifyPassword(name: string, password: string, scope: AuthScope): Promise<Account | undefined> {
    const candidates = (this.#accounts.get(name) ?? []).filter((a) => a.scopes.includes(scope));
    // A token in the password field (RTSP/RTMP clients that cannot send a bearer header).
    if (candidates.length === 0) return this.#secret && password.includes(".") ? await this.verifyToken(password) : undefined;
    const key = `${scope}\0${name}\0${await sha256Hex(password)}`;
    const cached = this.#cache.get(key);
    if (cached && cached.expires > Date.now()) return cached.account;
    for (const entry of candidates) {
      let ok = false;
      if (entry.hash !== undefined) ok = await (await import("bcryptjs")).compare(password, entry.hash);
      else if (entry.password !== undefined) ok = safeEqual(password, entry.password);
      if (ok) {
        this.#remember(key, entry.account);
        return entry.account;
      }
    }
    return undefined;
  }

  #remember(key: string, account: Account): void {
    this.#cache.set(key, { account, expires: Date.now() + this.#cacheMs });
    if (this.#cache.size > 1000) this.#cache.delete(this.#cache.keys().next().value as string);
  }

  /**
   * The account a bearer token stands for, or undefined when it is invalid, expired or tokens are
   * off.
   *
   * @example
   * ```ts
   * await store.verifyToken(c.req.query("token") ?? ""); // Account | undefined
   * ```
   */
  async verifyToken(token: string): Promise<Account | undefined> {
    if (!this.#secret || !token) return undefined;
    try {
      const { jwtVerify } = await import("jose");
      const { payload } = await jwtVerify(token, this.#secret, { algorithms: ["HS256"], requiredClaims: ["sub", "exp"] });
      const list = (v: unknown) => Array.isArray(v) ? v.filter((s): s is string => typeof s === "string") : [];
      return {
        name: String(payload.sub),
        role: payload.role === "admin" ? "admin" : "viewer",
        streams: list(payload.streams),
        publish: list(payload.publish),
      };
    } catch {
      return undefined;
    }
  }
}

/**
 * Signs a bearer token for an account (what `strom token` prints).
 *
 * @example
 * ```ts
 * const jwt = await signToken(secret, { name: "frigate", role: "viewer", streams: ["cam*"], publish: [] }, 3600);
 * ```
 */
export async function signToken(secret: string, account: Account, expiresInSeconds: number): Promise<string> {
  if (secret.length < MIN_TOKEN_SECRET) {
    throw new RangeError(`The token secret must be at least ${MIN_TOKEN_SECRET} characters; got ${secret.length}.`);
  }
  const { SignJWT } = await import("jose");
  return await new SignJWT({ role: account.role, streams: [...account.streams], publish: [...account.publish] })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(account.name)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + Math.max(1, Math.floor(expiresInSeconds)))
    .sign(new TextEncoder().encode(secret));
}

/**
 * A bcrypt hash of a password for `password_hash` (what `strom passwd` prints).
 *
 * @example
 * ```ts
 * await hashPassword("secret"); // "$2b$10$..."
 * ```
 */
export async function hashPassword(password: string, cost = 10): Promise<string> {
  return await (await import("bcryptjs")).hash(password, cost);
}

async function sha256Hex(text: string): Promise<string> {
  return bytesToHex(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))));
}
