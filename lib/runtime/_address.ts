/**
 * Address helpers shared by tcp.ts and udp.ts (private to lib/runtime).
 *
 * @module
 */
import type { NetAddr } from "./net_error.ts";

/** Strips the IPv4-mapped prefix a dual-stack socket reports (`::ffff:1.2.3.4` -> `1.2.3.4`). */
export function plainHost(hostname: string | undefined): string {
  if (!hostname) return "";
  return hostname.startsWith("::ffff:") && hostname.includes(".") ? hostname.slice(7) : hostname;
}

/** A NetAddr from the (possibly undefined) fields node:* sockets expose. */
export function netAddr(hostname: string | undefined, port: number | undefined): NetAddr {
  return { hostname: plainHost(hostname), port: port ?? 0 };
}
