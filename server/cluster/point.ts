/**
 * What both kinds of cluster (NATS and `cluster.nodes`) do with a decision: point each stream at its
 * camera or at the owner's RTSP, and accept only rtsp:// and rtsps:// as another node's address.
 *
 * @module
 */
import type { StreamHub } from "../../lib/core/hub.ts";
import type { Logger } from "../../lib/core/log.ts";
import { redactUrl } from "../../lib/core/errors.ts";

/**
 * Sets each stream's sources to what `desired` says (undefined: leave it). Changing a stream's
 * sources moves its viewers to the new source without closing them, which is how failover keeps
 * viewers playing.
 *
 * @example
 * ```ts
 * pointStreams(hub, Object.entries(config.streams), (name, sources) => owner(name) === me ? sources : undefined, log);
 * ```
 */
export function pointStreams(
  hub: StreamHub,
  entries: Iterable<[string, string[]]>,
  desired: (stream: string, sources: string[]) => string[] | undefined,
  log: Logger,
): void {
  for (const [name, sources] of entries) {
    const stream = hub.get(name);
    if (!stream) continue;
    const want = desired(name, sources);
    if (!want || sameList(stream.sources, want)) continue;
    log.info("stream source now", { stream: name, sources: want.map(redactUrl) });
    stream.sources = want;
  }
}

/**
 * `url` when it is an rtsp:// or rtsps:// base URL, else undefined. Another node's address comes from
 * the network (a KV value, an HTTP answer): it must never become a source that runs a program
 * (exec:, ffmpeg:, ...), see server/source_policy.ts.
 *
 * @example
 * ```ts
 * rtspBase("rtsp://10.0.0.2:8554"); // "rtsp://10.0.0.2:8554"
 * rtspBase("exec:rm -rf /");        // undefined
 * ```
 */
export function rtspBase(url: unknown): string | undefined {
  return typeof url === "string" && /^rtsps?:\/\/[^\s]+$/i.test(url) ? url : undefined;
}

/**
 * {@link rtspBase} of what `node` said its RTSP address is, warning once per node (in `warned`) when
 * it is something else.
 *
 * @example
 * ```ts
 * const warned = new Set<string>();
 * peerRtspBase("node-2", announcement.rtsp, warned, log); // "rtsp://10.0.0.2:8554", or undefined and one warning
 * ```
 */
export function peerRtspBase(node: string, said: unknown, warned: Set<string>, log: Logger): string | undefined {
  const base = rtspBase(said);
  if (!base && said !== undefined && !warned.has(node)) {
    warned.add(node);
    log.warn("ignoring a node's RTSP address that is not rtsp:// or rtsps://", { node });
  }
  return base;
}

/**
 * A node's load as the cluster counts it: the viewers and relays of all its streams now.
 *
 * @example
 * ```ts
 * hubLoad(hub); // 3: two viewers and one other node's relay
 * ```
 */
export function hubLoad(hub: StreamHub): number {
  let load = 0;
  for (const s of hub.streams()) load += s.consumers().length;
  return load;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * A node's announced API base URL as a redirect target: an http(s) URL without credentials, query
 * or whitespace, without its trailing slash; undefined for anything else.
 *
 * @example
 * ```ts
 * viewerApiBase("http://10.0.0.2:1984/"); // "http://10.0.0.2:1984"
 * viewerApiBase("http://u:p@10.0.0.2");   // undefined
 * ```
 */
export function viewerApiBase(url: unknown): string | undefined {
  if (typeof url !== "string" || !/^https?:\/\/[^\s/@?#]+(\/[^\s?#@]*)?$/i.test(url)) return undefined;
  return url.replace(/\/+$/, "");
}

/**
 * Whether a URL's host is a loopback address or `localhost`.
 *
 * @example
 * ```ts
 * isLoopbackUrl("http://127.0.0.1:1984"); // true
 * ```
 */
export function isLoopbackUrl(url: string): boolean {
  try {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, "").toLowerCase();
    return host === "localhost" || host === "::1" || /^127\./.test(host);
  } catch {
    return false;
  }
}
