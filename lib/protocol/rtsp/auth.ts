/**
 * RTSP authentication: Basic (RFC 7617) and Digest with MD5 / MD5-sess (RFC 2617, RFC 7616
 * section 3.4), client side ({@link RtspAuthClient}) and server side ({@link RtspAuthServer}).
 *
 * ```text
 * HA1      = MD5(username ":" realm ":" password)            (MD5-sess: MD5(HA1 ":" nonce ":" cnonce))
 * HA2      = MD5(method ":" digest-uri)
 * response = MD5(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" HA2)   with qop=auth
 *          = MD5(HA1 ":" nonce ":" HA2)                             without qop (RFC 2069)
 * ```
 *
 * @module
 */
import { md5Hex } from "./md5.ts";
import { safeEqual } from "../../core/safe_equal.ts";
import { base64ToBytes, bytesToBase64, randomHex } from "../../core/bytes.ts";

/** One parsed `WWW-Authenticate` / `Authorization` value: scheme and parameters (names lower-cased). */
export interface AuthChallenge {
  scheme: string;
  params: Record<string, string>;
}

/**
 * Parses a `WWW-Authenticate` or `Authorization` field value. A value can hold several challenges
 * (`Basic realm="a", Digest realm="a", nonce="b"`); each is returned.
 *
 * @example
 * ```ts
 * parseAuthHeader('Digest realm="cam", nonce="abc", qop="auth"');
 * // [{ scheme: "digest", params: { realm: "cam", nonce: "abc", qop: "auth" } }]
 * ```
 */
export function parseAuthHeader(value: string): AuthChallenge[] {
  const out: AuthChallenge[] = [];
  let current: AuthChallenge | undefined;
  let i = 0;
  const n = value.length;
  const isSpace = (c: string) => c === " " || c === "\t";
  while (i < n) {
    while (i < n && (isSpace(value[i]) || value[i] === ",")) i++;
    if (i >= n) break;
    const start = i;
    while (i < n && !isSpace(value[i]) && value[i] !== "=" && value[i] !== ",") i++;
    const token = value.slice(start, i);
    let j = i;
    while (j < n && isSpace(value[j])) j++;
    if (
      current && !Object.keys(current.params).length && current.scheme === "basic" && value[j] !== "=" ||
      current && current.scheme === "basic" && /^=+\s*(,|$)/.test(value.slice(j))
    ) {
      // Basic credentials are a token68 (base64, maybe ending in '=' padding), not parameters.
      while (j < n && value[j] === "=") j++;
      current.params.token68 = value.slice(start, j);
      i = j;
      continue;
    }
    if (value[j] !== "=" || !current) {
      current = { scheme: token.toLowerCase(), params: {} };
      out.push(current);
      continue;
    }
    // key=value or key="quoted value"
    i = j + 1;
    while (i < n && isSpace(value[i])) i++;
    let v = "";
    if (value[i] === '"') {
      i++;
      while (i < n && value[i] !== '"') {
        if (value[i] === "\\" && i + 1 < n) i++;
        v += value[i++];
      }
      i++;
    } else {
      const vs = i;
      while (i < n && value[i] !== ",") i++;
      v = value.slice(vs, i).trim();
    }
    current.params[token.toLowerCase()] = v;
  }
  return out;
}

function quote(v: string): string {
  return `"${v.replace(/["\\]/g, "\\$&")}"`;
}

function base64(text: string): string {
  return bytesToBase64(new TextEncoder().encode(text));
}

function fromBase64(text: string): string | undefined {
  try {
    return new TextDecoder().decode(base64ToBytes(text));
  } catch {
    return undefined;
  }
}

/** Inputs of {@link digestResponse}. */
export interface DigestInput {
  username: string;
  password: string;
  realm: string;
  nonce: string;
  method: string;
  uri: string;
  /** `MD5` (default) or `MD5-sess`. */
  algorithm?: string;
  /** `auth` or absent (RFC 2069 compatibility). */
  qop?: string;
  /** Nonce count as 8 hex digits, e.g. `00000001`. */
  nc?: string;
  cnonce?: string;
}

/**
 * Computes the Digest `response` value.
 *
 * @example
 * ```ts
 * digestResponse({ username: "Mufasa", password: "Circle Of Life", realm: "testrealm@host.com",
 *   nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093", method: "GET", uri: "/dir/index.html",
 *   qop: "auth", nc: "00000001", cnonce: "0a4f113b" }); // "6629fae49393a05397450978507c4ef1"
 * ```
 */
export function digestResponse(d: DigestInput): string {
  let ha1 = md5Hex(`${d.username}:${d.realm}:${d.password}`);
  if ((d.algorithm ?? "").toUpperCase() === "MD5-SESS") ha1 = md5Hex(`${ha1}:${d.nonce}:${d.cnonce ?? ""}`);
  const ha2 = md5Hex(`${d.method}:${d.uri}`);
  if (d.qop) return md5Hex(`${ha1}:${d.nonce}:${d.nc}:${d.cnonce}:${d.qop}:${ha2}`);
  return md5Hex(`${ha1}:${d.nonce}:${ha2}`);
}

/** A server asked for an authentication scheme the client cannot do. */
export class UnsupportedAuthError extends Error {
  override name = "UnsupportedAuthError";
  readonly schemes: string[];
  constructor(schemes: string[]) {
    super(
      `Cannot authenticate: server offers ${schemes.join(", ") || "no scheme"}; strom supports Basic and ` +
        `Digest (MD5, MD5-sess). Check the camera's authentication settings.`,
    );
    this.schemes = schemes;
  }
}

/**
 * Client-side credentials: answers `401` challenges and signs each following request.
 *
 * @example
 * ```ts
 * const auth = new RtspAuthClient("admin", "secret");
 * if (res.status === 401 && auth.challenge(res.headers.getAll("WWW-Authenticate"))) {
 *   headers.set("Authorization", auth.authorization("DESCRIBE", uri)!);
 * }
 * ```
 */
export class RtspAuthClient {
  readonly username: string;
  readonly password: string;
  #scheme: "none" | "basic" | "digest" = "none";
  #params: Record<string, string> = {};
  #nc = 0;
  #cnonce = randomHex(8);

  constructor(username: string, password: string) {
    this.username = username;
    this.password = password;
  }

  /** Whether a scheme has been chosen from a challenge. */
  get active(): boolean {
    return this.#scheme !== "none";
  }

  /**
   * Takes the `WWW-Authenticate` values of a 401. Prefers Digest over Basic. Returns whether a
   * retry with credentials can succeed (false when there are no credentials, or the same Digest
   * nonce was already rejected and not marked stale). Throws {@link UnsupportedAuthError} when only
   * unknown schemes are offered.
   */
  challenge(values: string[]): boolean {
    const all = values.flatMap(parseAuthHeader);
    const digest = all.find((c) =>
      c.scheme === "digest" && /^(md5|md5-sess)?$/i.test(c.params.algorithm ?? "")
    );
    const basic = all.find((c) => c.scheme === "basic");
    if (!digest && !basic) throw new UnsupportedAuthError(all.map((c) => c.scheme));
    if (!this.username && !this.password) return false;
    if (digest) {
      const retried = this.#scheme === "digest" && this.#params.nonce === digest.params.nonce &&
        digest.params.stale?.toLowerCase() !== "true";
      this.#scheme = "digest";
      this.#params = digest.params;
      this.#nc = 0;
      return !retried;
    }
    const retried = this.#scheme === "basic";
    this.#scheme = "basic";
    return !retried;
  }

  /** The `Authorization` value for a request, or `undefined` before any challenge. */
  authorization(method: string, uri: string): string | undefined {
    if (this.#scheme === "basic") return `Basic ${base64(`${this.username}:${this.password}`)}`;
    if (this.#scheme !== "digest") return undefined;
    const p = this.#params;
    // qop may offer a list ("auth,auth-int"); only "auth" is supported.
    const qop = p.qop !== undefined
      ? (p.qop.split(",").map((s) => s.trim().toLowerCase()).includes("auth") ? "auth" : undefined)
      : undefined;
    const nc = (++this.#nc).toString(16).padStart(8, "0");
    const response = digestResponse({
      username: this.username,
      password: this.password,
      realm: p.realm ?? "",
      nonce: p.nonce ?? "",
      method,
      uri,
      algorithm: p.algorithm,
      qop,
      nc,
      cnonce: this.#cnonce,
    });
    let header = `Digest username=${quote(this.username)}, realm=${quote(p.realm ?? "")}, ` +
      `nonce=${quote(p.nonce ?? "")}, uri=${quote(uri)}, response=${quote(response)}`;
    if (p.algorithm) header += `, algorithm=${p.algorithm}`;
    if (p.opaque !== undefined) header += `, opaque=${quote(p.opaque)}`;
    if (qop) header += `, qop=${qop}, nc=${nc}, cnonce=${quote(this.#cnonce)}`;
    return header;
  }
}

/** Options of {@link RtspAuthServer}. */
export interface RtspAuthServerOptions {
  username: string;
  password: string;
  /**
   * More accounts accepted alongside `username`/`password` (e.g. the server's own internal account
   * for `ffmpeg:<stream>` readers).
   */
  accounts?: readonly { username: string; password: string }[];
  /**
   * Looks accounts up elsewhere (a server's account store): when given, it alone answers, and
   * `username`/`password`/`accounts` are not used.
   */
  passwordOf?: (username: string) => string | undefined;
  /** Realm shown to clients. Default `strom`. */
  realm?: string;
  /** How long an issued nonce stays valid, in ms. Default 10 minutes. */
  nonceTtlMs?: number;
}

/**
 * Server-side check of `Authorization` headers against one user, offering Digest and Basic.
 *
 * Nonces are stateless: `<time hex>:<MD5(time, server secret)>`, so any issued nonce can be verified
 * without a table and expires after `nonceTtlMs` (the client then gets `stale=true` and retries).
 *
 * @example
 * ```ts
 * const auth = new RtspAuthServer({ username: "admin", password: "secret" });
 * if (!auth.verify(req.method, req.headers.get("Authorization"))) {
 *   for (const c of auth.challenges()) headers.append("WWW-Authenticate", c);
 * }
 * ```
 */
export class RtspAuthServer {
  readonly realm: string;
  readonly #accounts: readonly { username: string; password: string }[];
  readonly #passwordOf: ((username: string) => string | undefined) | undefined;
  readonly #secret = randomHex(16);
  readonly #ttl: number;

  constructor(options: RtspAuthServerOptions) {
    this.#accounts = [{ username: options.username, password: options.password }, ...(options.accounts ?? [])];
    this.#passwordOf = options.passwordOf;
    this.realm = options.realm ?? "strom";
    this.#ttl = options.nonceTtlMs ?? 10 * 60_000;
  }

  #nonce(now = Date.now()): string {
    const t = now.toString(16);
    return `${t}${md5Hex(`${t}:${this.#secret}`)}`;
  }

  #nonceState(nonce: string): "ok" | "stale" | "bad" {
    const t = nonce.slice(0, -32);
    if (!/^[0-9a-f]+$/.test(t) || md5Hex(`${t}:${this.#secret}`) !== nonce.slice(-32)) return "bad";
    return Date.now() - parseInt(t, 16) > this.#ttl ? "stale" : "ok";
  }

  /** `WWW-Authenticate` values for a 401: Digest first, then Basic. */
  challenges(stale = false): string[] {
    return [
      `Digest realm=${quote(this.realm)}, nonce=${quote(this.#nonce())}, algorithm=MD5, qop="auth"` +
      (stale ? ", stale=TRUE" : ""),
      `Basic realm=${quote(this.realm)}`,
    ];
  }

  /**
   * Checks an `Authorization` value. Returns `"ok"`, `"stale"` (right password, expired nonce: send
   * a fresh challenge with stale=true) or `"denied"`.
   */
  check(method: string, authorization: string | undefined): "ok" | "stale" | "denied" {
    return this.identify(method, authorization).state;
  }

  /**
   * Like {@link check}, and also says who: the user name of a good login, and for Basic the
   * credentials as sent (so a caller can check them against accounts this object does not hold,
   * e.g. bcrypt hashes or tokens).
   *
   * @example
   * ```ts
   * const { state, username, basic } = auth.identify("DESCRIBE", req.headers.get("Authorization"));
   * ```
   */
  identify(
    method: string,
    authorization: string | undefined,
  ): { state: "ok" | "stale" | "denied"; username?: string; basic?: { username: string; password: string } } {
    const denied = { state: "denied" as const };
    if (!authorization) return denied;
    const [cred] = parseAuthHeader(authorization);
    if (!cred) return denied;
    if (cred.scheme === "basic") {
      const decoded = fromBase64(cred.params.token68 ?? "");
      if (decoded === undefined) return denied;
      const colon = decoded.indexOf(":");
      if (colon < 0) return denied;
      const basic = { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
      const account = this.#account(basic.username);
      const ok = account !== undefined && safeEqual(basic.password, account.password);
      return { state: ok ? "ok" : "denied", username: ok ? basic.username : undefined, basic };
    }
    if (cred.scheme !== "digest") return denied;
    const p = cred.params;
    if (!p.username || !p.nonce || !p.uri || !p.response) return denied;
    const account = this.#account(p.username);
    if (!account || (p.realm ?? "") !== this.realm) return denied;
    const nonce = this.#nonceState(p.nonce);
    if (nonce === "bad") return denied;
    const expected = digestResponse({
      username: p.username,
      password: account.password,
      realm: this.realm,
      nonce: p.nonce,
      method,
      uri: p.uri,
      algorithm: p.algorithm,
      qop: p.qop,
      nc: p.nc,
      cnonce: p.cnonce,
    });
    if (!safeEqual(expected, (p.response ?? "").toLowerCase())) return denied;
    return { state: nonce === "stale" ? "stale" : "ok", username: p.username };
  }

  // The account with this user name (every account is compared, so timing does not tell which exist).
  #account(username: string): { username: string; password: string } | undefined {
    if (this.#passwordOf) {
      const password = this.#passwordOf(username);
      return password === undefined ? undefined : { username, password };
    }
    let found: { username: string; password: string } | undefined;
    for (const account of this.#accounts) if (safeEqual(username, account.username)) found ??= account;
    return found;
  }

  /** Whether an `Authorization` value is valid now. */
  verify(method: string, authorization: string | undefined): boolean {
    return this.check(method, authorization) === "ok";
  }
}
