/**
 * `cluster.load_balancer` for WebRTC viewers signalled over `/api/ws` (go2rtc's player, Frigate,
 * Home Assistant): a WebSocket cannot be redirected, so when the balancer picks another node this
 * node hands the viewer's offer to that node's WHEP endpoint and passes its answer back. The answer
 * carries that node's ICE candidates, so the media flows between the browser and that node; only
 * the signalling stays here. The session ends (a WHEP `DELETE`) when the WebSocket closes.
 *
 * @module
 */
import type { Logger } from "../../lib/core/log.ts";
import type { IceServer } from "../../lib/protocol/webrtc/mod.ts";

/** Where to ask for the session: another node's API base URL, and the header to use there. */
export interface RemoteWebRtcTarget {
  api: string;
  authorization?: string;
}

/** A viewer's WebRTC session held by another node of the cluster. */
export interface RemoteWebRtcSession {
  /** The other node's SDP answer. */
  readonly answer: string;
  /** The session's URL on the other node (its WHEP `Location`). */
  readonly location: string;
  /**
   * The viewer's trickled candidates are not passed on (the other node takes none over WHEP); it
   * learns the viewer's address from the viewer's own connectivity checks.
   */
  addCandidate(candidate: string): Promise<void>;
  /** Ends the session on the other node (a WHEP DELETE, in the background). */
  close(reason: string): void;
}

/** How long the other node may take to answer an offer before this node serves the viewer itself. */
const OFFER_TIMEOUT_MS = 10_000;

/** Why another node did not take a viewer's offer (the viewer is then served here). */
export class RemoteWebRtcError extends Error {
  override readonly name = "RemoteWebRtcError";
  constructor(readonly url: string, readonly status: number | undefined, detail: string) {
    super(`The cluster node at ${url} did not take the WebRTC offer: ${detail}`);
  }
}

/**
 * POSTs `offer` to `<api>/api/webrtc?src=<stream>&cluster_hop=1` (the JSON form
 * `{type: "offer", sdp, ice_servers}`, so the viewer's ICE servers go along) and returns the session
 * there. Throws {@link RemoteWebRtcError} when the node does not answer with an SDP and a `Location`.
 *
 * @example
 * ```ts
 * const remote = await playRemote({ api: "http://10.0.0.3:1984" }, "front_door", offerSdp, undefined, log);
 * ws.send({ type: "webrtc/answer", value: remote.answer });
 * // when the viewer leaves:
 * remote.close("socket closed");
 * ```
 */
export async function playRemote(
  target: RemoteWebRtcTarget,
  stream: string,
  offer: string,
  iceServers: IceServer[] | undefined,
  log: Logger,
): Promise<RemoteWebRtcSession> {
  const url = `${target.api.replace(/\/+$/, "")}/api/webrtc?src=${encodeURIComponent(stream)}&cluster_hop=1`;
  const auth: Record<string, string> = target.authorization ? { Authorization: target.authorization } : {};
  let res: Response;
  try {
    res = await fetch(url, { method: "POST", headers: { ...auth, "Content-Type": "application/json" }, body: JSON.stringify({ type: "offer", sdp: offer, ice_servers: iceServers }), redirect: "manual", signal: AbortSignal.timeout(OFFER_TIMEOUT_MS) });
  } catch (error) {
    throw new RemoteWebRtcError(url, undefined, String((error as Error)?.message ?? error));
  }
  const text = await res.text().catch(() => "");
  if (res.status !== 200) {
    const hint = res.status === 401 || res.status === 403 ? " (with cluster.nodes, set cluster.username and cluster.password to an account on that node; a NATS cluster has no API account for its nodes, so with API accounts on, such viewers are served where they arrive)" : "";
    throw new RemoteWebRtcError(url, res.status, `HTTP ${res.status} ${text.slice(0, 200)}${hint}`);
  }
  const header = res.headers.get("location");
  let answer: unknown;
  try {
    answer = (JSON.parse(text) as { sdp?: unknown }).sdp;
  } catch {
    // Not JSON: reported below.
  }
  if (typeof answer !== "string" || !answer.startsWith("v=0") || !header) {
    throw new RemoteWebRtcError(url, res.status, `the answer has no SDP or no Location: ${text.slice(0, 120)}`);
  }
  const location = new URL(header, url).href;
  let closed = false;
  return {
    answer,
    location,
    addCandidate: () => Promise.resolve(),
    close(reason: string) {
      if (closed) return;
      closed = true;
      fetch(location, { method: "DELETE", headers: auth, redirect: "manual", signal: AbortSignal.timeout(OFFER_TIMEOUT_MS) })
        .then(async (r) => {
          await r.body?.cancel();
          // 404: the session ended there already (ICE timeout, the node restarted).
          if (!r.ok && r.status !== 404) log.debug("remote webrtc session not deleted", { location, status: r.status, reason });
        })
        .catch((error) => log.debug("remote webrtc session not deleted", { location, error: String(error?.message ?? error), reason }));
    },
  };
}
