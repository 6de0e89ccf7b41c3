/**
 * API access control: `api.allow_paths` (a whitelist of paths), Basic auth with `api.username` /
 * `api.password` and the accounts in `api.auth.users` (loopback clients skip it unless
 * `api.local_auth` is true, as in go2rtc), and the `viewer` role (read-only management API).
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import type { ApiConfig } from "./config/mod.ts";
import { ApiError } from "./errors.ts";

/** Who made a request, set by {@link authMiddleware} as `c.get("user")`. */
export interface RequestUser {
  name: string;
  role: "viewer" | "admin";
  /** Stream name patterns this user may access; empty means all. */
  streams: string[];
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

/** Constant-time comparison of two strings, so response timing does not leak password prefixes. */
function safeEqual(a: string, b: string): boolean {
  const ea = new TextEncoder().encode(a);
  const eb = new TextEncoder().encode(b);
  let diff = ea.length ^ eb.length;
  for (let i = 0; i < ea.length; i++) diff |= ea[i] ^ (eb[i % (eb.length || 1)] ?? 0);
  return diff === 0;
}

function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  const m = header && /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) return undefined;
  let decoded: string;
  try {
    decoded = new TextDecoder().decode(Uint8Array.from(atob(m[1]), (ch) => ch.charCodeAt(0)));
  } catch {
    return undefined;
  }
  const i = decoded.indexOf(":");
  if (i < 0) return undefined;
  return { user: decoded.slice(0, i), password: decoded.slice(i + 1) };
}

/** Methods a `viewer` may use on the management endpoints below. */
const READ_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
const MANAGEMENT_PATHS = ["/api/streams", "/api/config", "/api/log", "/api/restart", "/api/exit", "/api/preload"];

/**
 * The access-control middleware for the API. `basePath` is stripped before `allow_paths` and the
 * role checks compare paths.
 *
 * @example
 * ```ts
 * app.use("*", authMiddleware(config.api, { remoteAddress: adapter.remoteAddress }));
 * ```
 */
export function authMiddleware(
  api: ApiConfig,
  options: { basePath?: string; remoteAddress?: (c: Context) => string | undefined } = {},
): MiddlewareHandler {
  const basePath = options.basePath ?? "";
  const users = Object.entries(api.auth?.users ?? {});
  const authEnabled = !!api.username || users.length > 0;
  const allow = api.allow_paths ?? [];
  return async (c, next) => {
    const fullPath = c.req.path;
    const path = basePath && fullPath.startsWith(basePath) ? fullPath.slice(basePath.length) || "/" : fullPath;
    if (allow.length > 0 && !allow.includes(path) && !allow.includes(fullPath)) {
      throw new ApiError(404, `Path "${fullPath}" is not in api.allow_paths.`, "NotFound");
    }
    if (!authEnabled || c.req.method === "OPTIONS") return await next();
    if (!api.local_auth && isLoopback(options.remoteAddress?.(c))) return await next();

    const creds = parseBasic(c.req.header("authorization"));
    let user: RequestUser | undefined;
    if (creds) {
      if (api.username && creds.user === api.username && safeEqual(creds.password, api.password ?? "")) {
        user = { name: creds.user, role: "admin", streams: [] };
      } else {
        const entry = users.find(([name]) => name === creds.user)?.[1];
        if (entry?.password !== undefined && safeEqual(creds.password, entry.password)) {
          user = { name: creds.user, role: entry.role, streams: entry.streams ?? [] };
        }
      }
    }
    if (!user) {
      return c.json(
        { error: "Unauthorized", message: "Authentication required: send HTTP Basic credentials (api.username/password)." },
        401,
        { "WWW-Authenticate": 'Basic realm="strom", charset="UTF-8"' },
      );
    }
    if (user.role === "viewer" && !READ_METHODS.has(c.req.method) && MANAGEMENT_PATHS.some((p) => path.startsWith(p))) {
      throw new ApiError(403, `User "${user.name}" has the viewer role and cannot ${c.req.method} ${path}.`, "Forbidden");
    }
    c.set("user" as never, user as never);
    await next();
  };
}
