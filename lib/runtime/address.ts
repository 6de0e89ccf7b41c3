/**
 * Host and port as text, with IPv6 literals in brackets (RFC 3986 section 3.2.2), for logs, errors,
 * connection info and URLs. The one place strom writes them, so no caller forgets the brackets.
 *
 * @module
 */

/**
 * `1.2.3.4:554`, `[::1]:554`, `cam.local:554`.
 *
 * @example
 * ```ts
 * formatAddress("::1", 8554); // "[::1]:8554"
 * ```
 */
export function formatAddress(hostname: string, port: number): string {
  return `${bracketHost(hostname)}:${port}`;
}

/**
 * The host part of a URL: an IPv6 literal in brackets, anything else as it is.
 *
 * @example
 * ```ts
 * `rtsp://${bracketHost("fe80::1")}:554/`; // "rtsp://[fe80::1]:554/"
 * ```
 */
export function bracketHost(hostname: string): string {
  return hostname.includes(":") && !hostname.startsWith("[") ? `[${hostname}]` : hostname;
}
