/**
 * The host's network interfaces and their addresses (`node:os` `networkInterfaces`, which Node, Deno
 * and Bun all implement), for choosing where to gather ICE candidates by interface name
 * (`webrtc.filters.interfaces`).
 *
 * @module
 */
import * as os from "node:os";

/** One address of a network interface. */
export interface InterfaceAddress {
  /** The interface's name (`eth0`, `lo`, `wlan0`...). */
  name: string;
  address: string;
  family: "IPv4" | "IPv6";
  /** A loopback interface. */
  internal: boolean;
  /** The subnet mask (`255.255.255.0`, `ffff:ffff:ffff:ffff::`); `""` when the runtime does not tell. */
  netmask: string;
}

/**
 * Every address of every interface that is up, in the order the system lists them. An interface
 * without addresses is not listed. Never throws: a runtime that cannot tell returns an empty list.
 *
 * @example
 * ```ts
 * networkInterfaces().filter((a) => a.name === "eth0").map((a) => a.address); // ["192.168.1.5", "fe80::..."]
 * ```
 */
export function networkInterfaces(): InterfaceAddress[] {
  let table: ReturnType<typeof os.networkInterfaces>;
  try {
    table = os.networkInterfaces();
  } catch {
    return [];
  }
  const out: InterfaceAddress[] = [];
  for (const [name, addresses] of Object.entries(table)) {
    for (const a of addresses ?? []) {
      // Node 18.0-18.3 gave the family as a number.
      const family = String(a.family) === "6" || a.family === "IPv6" ? "IPv6" : "IPv4";
      out.push({ name, address: a.address, family, internal: a.internal, netmask: a.netmask ?? "" });
    }
  }
  return out;
}

/**
 * This host's name (`node:os` `hostname`); `"localhost"` when the runtime cannot tell.
 *
 * @example
 * ```ts
 * hostName(); // "nvr-box"
 * ```
 */
export function hostName(): string {
  try {
    return os.hostname() || "localhost";
  } catch {
    return "localhost";
  }
}
