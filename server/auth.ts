/**
 * API access control: `api.allow_paths` (a whitelist of paths), Basic auth with `api.username` /
 * `api.password` and the accounts in `api.auth.users`, bearer tokens (loopback clients skip it unless
 * `api.local_auth` is true, as in go2rtc), the `viewer` role (read-only management API), and
 * failed-login rate limiting per IP. Accounts are checked by `access/accounts.ts`, the same store
 * every other protocol uses.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { base64ToBytes } from "../lib/core/bytes.ts";
import type { ApiConfig } from "./config/mod.ts";
import { type Account, may } from "./access/account.ts";
import { AccountStore } from "./access/accounts.ts";
import { FailedLogins } from "./access/failed_logins.ts";
import { ApiError } from "./errors.ts";

/** Who made a request, set by {@link authMiddleware} as `c.get("user")`: an {@link Account}. */
export type RequestUser = Account;

/**
 * The account of a request ({@link authMiddleware} sets it); undefined when no accounts are
 * configured, or the request came in without needing one (loopback with `local_auth` off).
 *
 * @example
 * ```ts
 * app.get("/api/x", (c) => c.json({ user: requestUser(c)?.name ?? null }));
 * ```
 */
export function requestUser(c: Context): RequestUser | undefined {
  return c.get("user" as never) as RequestUser | undefined;
}

/**
 * Whether the request's account may watch (and so see by name) `stream`: always without an account.
 *
 * @example
 * ```ts
 * const visible = names.filter((name) => mayRead(requestUser(c), name));
 * ```
 */
export function mayRead(user: RequestUser | undefined, stream: string): boolean {
  return !user || may(user, "read", stream);
}

/**
 * Whether an IP address is the local machine (IPv4 127/8, IPv6 ::1, IPv4-mapped loopback).
 *
 * @example
 * ```ts
 * isLoopback("::ffff:127.0.0.1"); // true
 * ```
 */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.toLowerCase().replace(/^\[|\]$/g, "");
  return a === "::1" || /^127\./.test(a) || /^::ffff:127\./.test(a);
}

/**
 * Whether a client at `ip` must log in when accounts exist: always with `api.local_auth`, else
 * unless it is on this machine (go2rtc's rule).
 *
 * @example
 * ```ts
 * if (accounts.hasAccounts("http") && loginRequired(config.api, ip)) await logIn();
 * ```
 */
export function loginRequired(api: Pick<ApiConfig, "local_auth"> | undefined, ip: string | undefined): boolean {
  return !!api?.local_auth || !isLoopback(ip);
}

function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  const m = header && /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) return undefined;
  let decoded: string;
  try {
    decoded = new TextDecoder().decode(base64ToBytes(m[1]));
  } catch {
    return undefined;
  }
  const i = decoded.indexOf(":");
  if (i < 0) return undefined;
  return { user: decoded.slice(0, i), password: decoded.slice(i + 1) };
}

/** Methods a `viewer` may use on the management endpoints below. */
const READ_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
const ADMIN_ONLY_PATHS = ["/api/config", "/api/log", "/api/onvif", "/api/ffmpeg"];
const MANAGEMENT_PATHS = ["/api/streams", "/api/config", "/api/log", "/api/restart", "/api/exit", "/api/preload", "/api/record", "/api/disabled"];

/**
 * The access-control middleware for the API. `basePath` is stripped before `allow_paths` and the
 * role checks compare paths. Credentials: HTTP Basic (`api.username`/`api.password` or an
 * `api.auth.users` account, `password` or bcrypt `password_hash`), `Authorization: Bearer <jwt>`, or
 * `?token=<jwt>` for players that cannot set headers. Too many wrong passwords from one IP get 429.
 *
 * @example
 * ```ts
 * app.use("*", authMiddleware(config.api, { remoteAddress: adapter.remoteAddress, accounts }));
 * ```
 */
export function authMiddleware(
  api: ApiConfig,
  options: {
    basePath?: string;
    remoteAddress?: (c: Context) => string | undefined;
    accounts?: AccountStore;
    failedLogins?: FailedLogins;
  } = {},
): MiddlewareHandler {
  const basePath = options.basePath ?? "";
  const accounts = options.accounts ?? new AccountStore({ api });
  const failedLogins = options.failedLogins ?? new FailedLogins();
  const authEnabled = accounts.hasAccounts("http");
  const allow = api.allow_paths ?? [];
  return async (c, next) => {
    const fullPath = c.req.path;
    const path = basePath && fullPath.startsWith(basePath) ? fullPath.slice(basePath.length) || "/" : fullPath;
    if (allow.length > 0 && !allow.includes(path) && !allow.includes(fullPath)) {
      throw new ApiError(404, `Path "${fullPath}" is not in api.allow_paths.`, "NotFound");
    }
    if (!authEnabled || c.req.method === "OPTIONS") return await next();
    // The ONVIF device logs clients in by WS-Security inside the SOAP request (routes/onvif_device.ts).
    if (path.startsWith("/onvif/") && c.req.method === "POST") return await next();
    const ip = options.remoteAddress?.(c);
    if (!loginRequired(api, ip)) return await next();

    const retryAfter = failedLogins.retryAfter(ip);
    if (retryAfter > 0) {
      return c.json(
        { error: "TooManyRequests", message: `Too many failed logins from ${ip ?? "this address"}; try again in ${retryAfter} s.` },
        429,
        { "Retry-After": String(retryAfter) },
      );
    }
    const header = c.req.header("authorization");
    const bearer = header && /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
    const token = bearer ?? c.req.query("token");
    const creds = parseBasic(header);
    let user: RequestUser | undefined;
    if (token) user = await accounts.verifyToken(token);
    else if (creds) user = await accounts.verifyPassword(creds.user, creds.password, "http");
    if (!user) {
      if (token || creds) failedLogins.fail(ip);
      return c.json(
        {
          error: "Unauthorized",
          message: token
            ? "The bearer token is invalid or expired: get a new one with `strom token`."
            : "Authentication required: send HTTP Basic credentials (api.username/password or an api.auth.users account) or a bearer token.",
        },
        401,
        { "WWW-Authenticate": 'Basic realm="strom", charset="UTF-8"' },
      );
    }
    failedLogins.succeed(ip);
    // The config file holds every password in clear and the log names every stream: admins only.
    if (user.role === "viewer" && ADMIN_ONLY_PATHS.some((p) => path === p || path.startsWith(`${p}/`))) {
      throw new ApiError(403, `User "${user.name}" has the viewer role and cannot read ${path}; it is for admins.`, "Forbidden");
    }
    if (user.role === "viewer" && !READ_METHODS.has(c.req.method) && MANAGEMENT_PATHS.some((p) => path.startsWith(p))) {
      throw new ApiError(403, `User "${user.name}" has the viewer role and cannot ${c.req.method} ${path}.`, "Forbidden");
    }
    c.set("user" as never, user as never);
    await next();
  };
}
