/**
 * `cluster.nodes` (the go2rtc seed article's cluster without NATS): each entry's API base URL, and
 * which entry is this node. The same list goes on every node, so a node finds itself by its
 * `api.listen` port and its own addresses unless `cluster.node` names it.
 *
 * @module
 */
import { hostName, networkInterfaces } from "../../lib/runtime/interfaces.ts";
import type { ClusterNodeEntry } from "../config/types.ts";
import { parseListen } from "../listen.ts";

/** A `cluster.nodes` entry that cannot work, with the key to fix. */
export class NodeListError extends Error {
  override name = "NodeListError";
  constructor(readonly key: string, message: string) {
    super(`${key}: ${message}`);
  }
}

/** One listed node, its address parsed. */
export interface ListedNode {
  name: string;
  weight: number;
  /** Base URL of its HTTP API, e.g. `http://10.0.0.2:1984`. */
  api: string;
  /** Its host as written (no brackets), e.g. `10.0.0.2`, `::1`, `nvr-2.lan`. */
  host: string;
  port: number;
}

/**
 * Parses `address` (`host:port`, `[v6]:port` or `http(s)://host:port`) into a base URL.
 *
 * @throws {NodeListError} naming `cluster.nodes[i].address` when it is not one of those forms.
 * @example
 * ```ts
 * nodeApiUrl("192.168.1.101:1984", 0); // { api: "http://192.168.1.101:1984", host: "192.168.1.101", port: 1984 }
 * ```
 */
export function nodeApiUrl(address: string, index: number): { api: string; host: string; port: number } {
  const key = `cluster.nodes[${index}].address`;
  const text = address.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new NodeListError(key, `"${address}" is not an address; write host:port (192.168.1.101:1984) or http://host:port.`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new NodeListError(key, `"${address}": the address of a node's API is http:// or https://, not ${url.protocol}//.`);
  }
  if (url.username || url.password) {
    throw new NodeListError(key, `"${address}" has credentials; put the account in cluster.username and cluster.password.`);
  }
  const port = url.port ? Number(url.port) : (url.protocol === "https:" ? 443 : 80);
  if (!url.port && !/^https?:\/\//i.test(text)) {
    throw new NodeListError(key, `"${address}" has no port; write host:port, e.g. ${url.hostname}:1984.`);
  }
  const host = url.hostname.replace(/^\[|\]$/g, "");
  return { api: `${url.protocol}//${url.host}`, host, port };
}

/**
 * Parses the list and checks names are unique.
 *
 * @throws {NodeListError} for a bad address or a repeated name.
 * @example
 * ```ts
 * listedNodes([{ name: "node-1", address: "10.0.0.1:1984", weight: 1 }])[0].api; // "http://10.0.0.1:1984"
 * ```
 */
export function listedNodes(entries: readonly ClusterNodeEntry[]): ListedNode[] {
  const seen = new Set<string>();
  return entries.map((entry, i) => {
    if (seen.has(entry.name)) throw new NodeListError(`cluster.nodes[${i}].name`, `"${entry.name}" is listed twice; give every node its own name.`);
    seen.add(entry.name);
    return { name: entry.name, weight: entry.weight > 0 ? entry.weight : 1, ...nodeApiUrl(entry.address, i) };
  });
}

/** Whether `host` names this machine: loopback, one of its interface addresses, or its host name. */
export function isThisHost(host: string, addresses: readonly string[] = networkInterfaces().map((a) => a.address)): boolean {
  const h = host.toLowerCase().replace(/^::ffff:/, "");
  if (h === "localhost" || h === "::1" || /^127\./.test(h)) return true;
  if (h === hostName().toLowerCase()) return true;
  return addresses.some((a) => a.toLowerCase().replace(/%.*$/, "") === h);
}

/**
 * Which listed node this one is: the entry named `node` when given, else the one entry whose port is
 * `api.listen`'s and whose host is this machine.
 *
 * @throws {NodeListError} when `node` is not listed, or no entry or several entries match.
 * @example
 * ```ts
 * findSelf(nodes, "", ":1984"); // the entry at one of this host's addresses, port 1984
 * ```
 */
export function findSelf(nodes: readonly ListedNode[], node: string, apiListen: string, addresses?: readonly string[]): ListedNode {
  if (node) {
    const named = nodes.find((n) => n.name === node);
    if (!named) {
      throw new NodeListError("cluster.node", `"${node}" is not in cluster.nodes (${nodes.map((n) => n.name).join(", ")}); use one of those names.`);
    }
    return named;
  }
  const listen = parseListen(apiListen);
  if (!listen || listen.port === 0) {
    throw new NodeListError("cluster.node", "this node has no fixed api.listen port to find itself in cluster.nodes by; set cluster.node to its name.");
  }
  const mine = nodes.filter((n) => n.port === listen.port && isThisHost(n.host, addresses));
  if (mine.length === 1) return mine[0];
  const names = mine.map((n) => n.name).join(", ");
  throw new NodeListError(
    "cluster.node",
    mine.length === 0
      ? `no entry of cluster.nodes is this machine at port ${listen.port} (api.listen); set cluster.node to this node's name.`
      : `several entries of cluster.nodes (${names}) are this machine at port ${listen.port}; set cluster.node to this node's name.`,
  );
}
