/**
 * The WebRTC module: playback of every stream to browsers and other WebRTC peers, signalled over
 * `/api/ws` (`webrtc/offer`, `webrtc`, `webrtc/candidate`) and `POST /api/webrtc` (WHEP, JSON, raw
 * SDP), with go2rtc's `webrtc:` config (`listen`, `candidates`, `ice_servers`, `filters`) and
 * strom's `max_peers`.
 *
 * What werift (~0.24) can and cannot do with the config: it opens one UDP socket per peer (and per
 * local address), on a random port or one from `filters.udp_ports`; there is no shared socket, so
 * `listen`'s port is not used and a NAT needs the `udp_ports` range forwarded, not one port.
 * ICE-TCP (`filters.networks: [tcp4]`) is werift's passive TCP candidate, also one port per peer.
 * `filters.interfaces` (by interface name) is not supported (the config loader warns): werift
 * picks the host addresses itself; `filters.ips` and the host part of `listen` select among them.
 *
 * @module
 */
import { type IcePolicy, WebRtcServer } from "../../lib/protocol/webrtc/mod.ts";
import type { WebrtcConfig } from "../config/types.ts";
import { webrtcRoutes } from "../routes/webrtc.ts";
import { WebRtcIngest } from "../../lib/protocol/webrtc/whip.ts";
import { configureWebRtcSources } from "../sources.ts";
import type { Module } from "./types.ts";

/**
 * The ICE policy for a `webrtc:` config section.
 *
 * @example
 * ```ts
 * icePolicyFromConfig({ listen: "127.0.0.1:8555", candidates: [], ice_servers: [], filters: {} });
 * // { bindAddress: "127.0.0.1", iceServers: [], ... }
 * ```
 */
export function icePolicyFromConfig(config: Partial<WebrtcConfig>): { policy: IcePolicy; notes: string[] } {
  const notes: string[] = [];
  const filters = config.filters ?? {};
  const policy: IcePolicy = { iceServers: (config.ice_servers ?? []).map((s) => ({ ...s })) };
  const listen = (config.listen ?? "").trim();
  const [address, network] = listen.split("/");
  const host = hostOf(address ?? "");
  if (host && host !== "0.0.0.0" && host !== "::") policy.bindAddress = host;
  const networks = filters.networks?.length ? [...filters.networks] : ["udp4"];
  if (network === "tcp" && !networks.includes("tcp4")) networks.push("tcp4");
  policy.networks = networks;
  if (filters.udp_ports?.length) {
    const [min, max] = filters.udp_ports;
    policy.portRange = [min, max ?? min];
  }
  if (filters.loopback !== undefined) policy.loopback = filters.loopback;
  else if (policy.bindAddress?.startsWith("127.") || policy.bindAddress === "::1") policy.loopback = true;
  if (filters.ips?.length) policy.ips = [...filters.ips];
  if (filters.candidates?.length) policy.onlyCandidates = [...filters.candidates];
  const candidates = config.candidates ?? [];
  policy.extraCandidates = candidates.filter((c) => !/^stun:/i.test(c.trim()));
  if (candidates.some((c) => /^stun:/i.test(c.trim())) && !(policy.iceServers?.length)) {
    notes.push(
      'webrtc.candidates has "stun:..." but webrtc.ice_servers lists no STUN server: no public address is ' +
        "discovered. Add one (e.g. {urls: [stun:stun.l.google.com:19302]}) or write the public IP as a candidate.",
    );
  }
  return { policy, notes };
}

function hostOf(address: string): string | undefined {
  const v6 = /^\[([^\]]*)\](?::\d*)?$/.exec(address);
  if (v6) return v6[1] || undefined;
  const i = address.lastIndexOf(":");
  const host = i < 0 ? address : address.slice(0, i);
  return host || undefined;
}

/**
 * Registers WebRTC signalling and starts the session server.
 *
 * @example
 * ```ts
 * const handle = await webrtcModule.init(ctx, app);
 * await handle?.close();
 * ```
 */
export const webrtcModule: Module = {
  name: "webrtc",
  init(ctx, app) {
    const log = ctx.log.child({ module: "webrtc" });
    const config = ctx.config.webrtc ?? ({} as Partial<WebrtcConfig>);
    const { policy, notes } = icePolicyFromConfig(config);
    for (const note of notes) log.warn(note);
    const server = new WebRtcServer({ ice: policy, maxPeers: config.max_peers ?? 100, log });
    // Publishing (WHIP, /api/ws?dst=) has its own sessions and limit, with the same ICE policy.
    const ingest = new WebRtcIngest({ ice: policy, maxPeers: config.max_peers ?? 100, log });
    webrtcRoutes(app, ctx, ctx.wsHandlers, server, ingest);
    // webrtc: sources dial out with the same policy (and loopback, to reach a server on this host).
    configureWebRtcSources({ ...policy, loopback: policy.loopback ?? true });
    log.debug("webrtc ready", {
      bind: policy.bindAddress ?? "all",
      udp_ports: policy.portRange?.join("-") ?? "random",
      candidates: policy.extraCandidates?.length ?? 0,
      ice_servers: policy.iceServers?.length ?? 0,
    });
    return Promise.resolve({ close: () => Promise.all([server.close(), ingest.close()]).then(() => {}) });
  },
};
