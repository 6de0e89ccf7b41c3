/**
 * Parses listen addresses as go2rtc writes them: `":1984"` (all interfaces), `"127.0.0.1:1984"`,
 * `"[::1]:1984"`, `"1984"`, `"localhost:0"`; `""` means disabled.
 *
 * @module
 */

/** A parsed listen address. */
export interface ListenAddress {
  /** `::` for "all interfaces" (dual-stack: IPv6 and IPv4, like go2rtc; `0.0.0.0` on a host without IPv6). */
  hostname: string;
  port: number;
}

/**
 * Parses a listen address; `undefined` for `""` (disabled).
 *
 * @throws {RangeError} when the port is missing or out of range.
 * @example
 * ```ts
 * parseListen(":1984");          // { hostname: "::", port: 1984 } (IPv6 and IPv4)
 * parseListen("0.0.0.0:1984");   // { hostname: "0.0.0.0", port: 1984 } (IPv4 only)
 * parseListen("[::1]:0");        // { hostname: "::1", port: 0 }
 * ```
 */
export function parseListen(listen: string): ListenAddress | undefined {
  const text = listen.trim();
  if (!text) return undefined;
  let host: string;
  let portText: string;
  const v6 = /^\[([^\]]*)\]:(\d*)$/.exec(text);
  if (v6) {
    host = v6[1];
    portText = v6[2];
  } else if (/^\d+$/.test(text)) {
    host = "";
    portText = text;
  } else {
    const i = text.lastIndexOf(":");
    if (i < 0) throw new RangeError(`Cannot parse listen address "${listen}": expected "host:port" or ":port", e.g. ":1984".`);
    host = text.slice(0, i);
    portText = text.slice(i + 1);
  }
  const port = Number(portText);
  if (!portText || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`Cannot parse listen address "${listen}": port must be 0-65535, e.g. ":1984".`);
  }
  return { hostname: host || "::", port };
}

/**
 * The URL to show for a bound HTTP address (a wildcard host, IPv4 or dual-stack, is shown as 127.0.0.1).
 *
 * @example
 * ```ts
 * httpUrl({ hostname: "0.0.0.0", port: 1984 }); // "http://127.0.0.1:1984"
 * ```
 */
export function httpUrl(addr: { hostname: string; port: number }): string {
  let host = addr.hostname;
  if (host === "0.0.0.0" || host === "" || host === "::") host = "127.0.0.1";
  else if (host.includes(":")) host = `[${host}]`;
  return `http://${host}:${addr.port}`;
}
