/**
 * Runtime-neutral network errors.
 *
 * Node, Deno and Bun report socket failures with different shapes (`code: "ECONNREFUSED"` on
 * `node:net`, `Deno.errors.ConnectionRefused` on Deno-native APIs). Everything above
 * `lib/runtime/` sees one {@link NetError} with a small closed set of {@link NetErrorCode}s it can
 * branch on, and a message that says what failed, where, and how to fix it.
 *
 * @module
 */

/** What went wrong, independent of the runtime. */
export type NetErrorCode =
  | "AddrInUse"
  | "ConnectionRefused"
  | "TimedOut"
  | "ConnectionReset"
  | "NotFound"
  | "PermissionDenied"
  | "BrokenPipe"
  | "Other";

/** A host and port. IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`) are reported as plain IPv4. */
export interface NetAddr {
  hostname: string;
  port: number;
}

/**
 * A socket operation failed.
 *
 * @example
 * ```ts
 * try {
 *   await tcpConnect({ hostname: "camera.local", port: 554 });
 * } catch (e) {
 *   if (e instanceof NetError && e.code === "ConnectionRefused") retryLater();
 * }
 * ```
 */
export class NetError extends Error {
  override name = "NetError";
  /** Runtime-neutral reason, for branching. */
  readonly code: NetErrorCode;
  /** The address involved, as `host:port` (`[v6]:port` for IPv6), when known. */
  readonly address?: string;
  constructor(code: NetErrorCode, message: string, options?: { address?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options?.address !== undefined) this.address = options.address;
  }
}

// errno (node:*) and Deno error class names -> neutral code, reason text, hint.
const TABLE: Record<string, [NetErrorCode, string, string]> = {
  EADDRINUSE: ["AddrInUse", "address already in use", "Stop the process using it or choose another port."],
  ECONNREFUSED: [
    "ConnectionRefused",
    "connection refused",
    "Check that the server is running and listens on that port.",
  ],
  ETIMEDOUT: ["TimedOut", "timed out", "Check the address and that no firewall drops the packets."],
  ECONNRESET: ["ConnectionReset", "connection reset by peer", "The peer closed the connection abruptly."],
  ECONNABORTED: ["ConnectionReset", "connection aborted", "The peer closed the connection abruptly."],
  EPIPE: ["BrokenPipe", "broken pipe", "The peer closed the connection before all data was sent."],
  ERR_STREAM_DESTROYED: ["BrokenPipe", "connection already closed", "Do not write after close()."],
  ERR_STREAM_WRITE_AFTER_END: ["BrokenPipe", "connection already closed", "Do not write after close()."],
  ENOTFOUND: ["NotFound", "host not found", "Check the hostname or use an IP address."],
  EAI_NONAME: ["NotFound", "host not found", "Check the hostname or use an IP address."],
  EAI_NODATA: ["NotFound", "host has no address", "Check the hostname or use an IP address."],
  EAI_FAIL: ["NotFound", "host name lookup failed", "Check the DNS server or use an IP address."],
  EAI_AGAIN: [
    "NotFound",
    "host name lookup failed temporarily",
    "Check the DNS server or use an IP address.",
  ],
  ENOENT: ["NotFound", "not found", "Check the path."],
  NotFound: ["NotFound", "not found", "Check the hostname or use an IP address."],
  EACCES: [
    "PermissionDenied",
    "permission denied",
    "Ports below 1024 need root or CAP_NET_BIND_SERVICE; choose a port >= 1024.",
  ],
  EPERM: ["PermissionDenied", "operation not permitted", "Check firewall rules and process privileges."],
  EADDRNOTAVAIL: [
    "Other",
    "address not available on this host",
    "Listen on 0.0.0.0 or an address of a local interface.",
  ],
  EHOSTUNREACH: ["Other", "host unreachable", "Check the address and the network route to it."],
  ENETUNREACH: ["Other", "network unreachable", "Check the address and the network route to it."],
};

// Deno reports error names instead of errno codes; these mean exactly the errno row they point to.
for (const [name, errno] of Object.entries({
  AddrInUse: "EADDRINUSE",
  ConnectionRefused: "ECONNREFUSED",
  TimedOut: "ETIMEDOUT",
  ConnectionReset: "ECONNRESET",
  ConnectionAborted: "ECONNABORTED",
  BrokenPipe: "EPIPE",
  PermissionDenied: "EACCES",
  AddrNotAvailable: "EADDRNOTAVAIL",
})) TABLE[name] = TABLE[errno];

/**
 * Turns whatever a runtime threw into a {@link NetError}. `action` and `address` build the message:
 * `Cannot connect to 10.0.0.5:554: connection refused. Check that ...`.
 *
 * @example
 * ```ts
 * socket.on("error", (e) => reject(toNetError(e, "connect to", "10.0.0.5:554")));
 * ```
 */
export function toNetError(error: unknown, action: string, address?: string): NetError {
  if (error instanceof NetError) return error;
  const e = error as { code?: unknown; name?: unknown; message?: unknown } | undefined;
  const key = typeof e?.code === "string" && e.code in TABLE
    ? e.code
    : typeof e?.name === "string" && e.name in TABLE
    ? e.name
    : undefined;
  const where = address ? ` ${address}` : "";
  if (key) {
    const [code, reason, hint] = TABLE[key];
    return new NetError(code, `Cannot ${action}${where}: ${reason}. ${hint}`, { address, cause: error });
  }
  let detail = typeof e?.message === "string" && e.message ? e.message : String(error);
  if (typeof e?.code === "string" && /CERT|SSL|TLS/.test(e.code)) {
    detail += ". For a self-signed camera certificate pass tls: { rejectUnauthorized: false }";
  }
  return new NetError("Other", `Cannot ${action}${where}: ${detail}`, { address, cause: error });
}
