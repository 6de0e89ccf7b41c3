/**
 * werift, loaded on first use. Importing werift costs about 30 MB of resident memory on Node (its
 * DTLS/SRTP/SCTP stacks and their dependencies): a third of an idle strom. A server that never sees
 * a WebRTC peer should not pay it, so nothing imports werift statically; the entry points that make
 * sessions (`WebRtcServer.play`, `WebRtcIngest.publish`, the `webrtc:` source) `await loadWerift()`
 * first, and the code that builds werift objects reaches it through {@link werift}.
 *
 * @module
 */
import type * as Werift from "werift";
import { patchDtlsClient } from "./dtls_client_patch.ts";
import { patchDtlsServer } from "./dtls_server_patch.ts";

let loaded: typeof Werift | undefined;
let loading: Promise<typeof Werift> | undefined;

/**
 * Loads werift once (concurrent callers share the import) and returns it.
 *
 * @example
 * ```ts
 * const { RTCPeerConnection } = await loadWerift();
 * ```
 */
export function loadWerift(): Promise<typeof Werift> {
  if (loaded) return Promise.resolve(loaded);
  loading ??= import("werift").then((m) => {
    patchDtlsClient(m); // a retransmitted flight 4 must not re-key the DTLS client (see the file)
    patchDtlsServer(m); // nor a late ClientHello the server, nor an invalid record either end
    return (loaded = m);
  });
  return loading;
}

/**
 * werift, once {@link loadWerift} has resolved.
 *
 * @throws {Error} when called before werift was loaded (a programming error: the caller skipped
 * `await loadWerift()`).
 * @example
 * ```ts
 * await loadWerift();
 * const pc = new (werift().RTCPeerConnection)({});
 * ```
 */
export function werift(): typeof Werift {
  if (!loaded) {
    throw new Error("werift is not loaded yet: await loadWerift() before creating a WebRTC session");
  }
  return loaded;
}

/**
 * The distinct DTLS transports of `pc`'s transceivers, in m-line order (with BUNDLE several
 * transceivers share one).
 *
 * @example
 * ```ts
 * for (const transport of dtlsTransportsOf(pc)) transport.stop().catch(() => {});
 * ```
 */
export function dtlsTransportsOf(pc: Werift.RTCPeerConnection): Werift.RTCDtlsTransport[] {
  const out: Werift.RTCDtlsTransport[] = [];
  for (const t of pc.getTransceivers()) {
    const d = t.dtlsTransport;
    if (d && !out.includes(d)) out.push(d);
  }
  return out;
}
