/**
 * Who may do what: an account's role and the streams it may watch and publish, the same on every
 * protocol (HTTP, WebSocket, RTSP, RTMP, WebRTC...).
 *
 * @module
 */

/** What a client asks to do with a stream. */
export type StreamAction = "read" | "publish";

/** An authenticated client. */
export interface Account {
  name: string;
  /** `viewer` watches (and publishes where `publish` allows); `admin` may do anything. */
  role: "viewer" | "admin";
  /** Stream patterns (`*` wildcards) this account may watch; empty means all. */
  streams: readonly string[];
  /** Stream patterns this account may publish into; empty means none (admins publish anywhere). */
  publish: readonly string[];
}

/**
 * Whether `name` matches one of `patterns` (`*` matches any run of characters).
 *
 * @example
 * ```ts
 * matchesPattern(["front_*"], "front_door"); // true
 * ```
 */
export function matchesPattern(patterns: readonly string[], name: string): boolean {
  return patterns.some((p) => {
    const re = new RegExp(`^${p.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
    return re.test(name);
  });
}

/**
 * Whether an account may read or publish a stream.
 *
 * @example
 * ```ts
 * may({ name: "bob", role: "viewer", streams: ["cam*"], publish: [] }, "read", "cam1"); // true
 * may({ name: "bob", role: "viewer", streams: ["cam*"], publish: [] }, "publish", "cam1"); // false
 * ```
 */
export function may(account: Account, action: StreamAction, stream: string): boolean {
  if (account.role === "admin") return true;
  if (action === "publish") return matchesPattern(account.publish, stream);
  return account.streams.length === 0 || matchesPattern(account.streams, stream);
}
