/**
 * The WebRTC module: playback of every stream to browsers and other WebRTC peers, signalled over
 * `/api/ws` (`webrtc/offer`, `webrtc`, `webrtc/candidate`) and `POST /api/webrtc` (WHEP, JSON, raw
 * SDP), with go2rtc's `webrtc:` config (`listen`, `candidates`, `ice_servers`, `filters`) and
 * strom's `max_peers`.
 *
 * `listen` (default ":8555") is one UDP port for every peer, as in go2rtc: werift (~0.24) opens a
 * socket per peer, so strom puts its IceUdpMux in front (lib/protocol/webrtc/ice_mux.ts) and announces
 * host candidates on that port only. When the port cannot be bound (taken), or `listen` is "" or
 * `filters.udp_ports` is set, each peer gets its own UDP port as werift does by itself, with a warning
 * in the first case. The shared port also serves ICE-TCP on the same number (a `tcptype passive`
 * host candidate; the mux bridges RFC 4571 frames into the session), unless `filters.networks` is set
 * without `tcp4`/`tcp6`; `":8555/tcp"` fixes only the TCP port (the UDP one is picked free). Without
 * the shared port, ICE-TCP (`filters.networks: [tcp4]`) is werift's passive TCP candidate, one port
 * per peer.
 * `filters.interfaces` names the interfaces whose addresses are announced (resolved at load through
 * the runtime's interface list; werift still gathers on every interface, strom announces only those).
 *
 * @module
 */
import { type IcePolicy, WebRtcServer } from "../../lib/protocol/webrtc/mod.ts";
import { IceUdpMux } from "../../lib/protocol/webrtc/ice_mux.ts";
import { type PlayoutDelay, playoutDelayOf } from "../../lib/protocol/webrtc/playout_delay.ts";
import { OpusFeeds } from "../../lib/protocol/ffmpeg/opus_feed.ts";
import { type InterfaceAddress, networkInterfaces } from "../../lib/runtime/interfaces.ts";
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
 *
 * `interfaces` is the host's interface list (the runtime's, by default), for `filters.interfaces`.
 */
export function icePolicyFromConfig(
  config: Partial<WebrtcConfig>,
  interfaces: () => InterfaceAddress[] = networkInterfaces,
): { policy: IcePolicy; notes: string[] } {
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
  if (filters.interfaces?.length) notes.push(...applyInterfaces(policy, filters.interfaces, interfaces(), filters.loopback));
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

/**
 * `filters.interfaces`: only the named interfaces' addresses are announced; naming a loopback
 * interface turns `loopback` on (unless `filters.loopback: false`). Returns warnings for names the
 * host does not have.
 */
function applyInterfaces(
  policy: IcePolicy,
  names: readonly string[],
  host: InterfaceAddress[],
  loopback: boolean | undefined,
): string[] {
  const notes: string[] = [];
  const chosen = host.filter((a) => names.includes(a.name));
  const missing = names.filter((n) => !host.some((a) => a.name === n));
  if (missing.length) {
    const have = [...new Set(host.map((a) => a.name))].join(", ") || "none";
    notes.push(
      `webrtc.filters.interfaces: no interface named ${missing.map((n) => `"${n}"`).join(", ")} on this host ` +
        `(it has: ${have}); ${chosen.length ? "only the others are used" : "no local address is announced"}. ` +
        "Fix the name or remove it.",
    );
  }
  policy.interfaceAddresses = chosen.map((a) => a.address);
  if (loopback === undefined && chosen.some((a) => a.internal)) policy.loopback = true;
  return notes;
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
  async init(ctx, app) {
    const log = ctx.log.child({ module: "webrtc" });
    const config = ctx.config.webrtc ?? ({} as Partial<WebrtcConfig>);
    const { policy: clientPolicy, notes } = icePolicyFromConfig(config);
    for (const note of notes) log.warn(note);
    const mux = await bindSharedPort(config, clientPolicy, log);
    const policy: IcePolicy = mux ? { ...clientPolicy, mux } : clientPolicy;
    // AAC-only streams: one ffmpeg per stream makes Opus for its WebRTC viewers (fixed arguments,
    // the config file's ffmpeg.bin), unless webrtc.audio_transcode is false.
    const opus = config.audio_transcode === false ? undefined : new OpusFeeds({
      ffmpegBin: () => (typeof ctx.config.ffmpeg?.bin === "string" && ctx.config.ffmpeg.bin) || "ffmpeg",
      log: ctx.log.child({ module: "webrtc" }),
    });
    const server = new WebRtcServer({
      ice: policy,
      maxPeers: config.max_peers ?? 100,
      audioFallback: opus,
      playoutDelay: jitterBuffer(config, log),
      log,
    });
    // Publishing (WHIP, /api/ws?dst=) has its own sessions and limit, with the same ICE policy.
    const bw = { ...config.bandwidth };
    for (const key of ["min", "start"] as const) {
      if (bw.max && bw[key] && bw[key]! > bw.max) {
        log.warn(`webrtc.bandwidth.${key} is above webrtc.bandwidth.max; publishers are told ${key} = max`, { [key]: bw[key], max: bw.max });
        bw[key] = bw.max;
      }
    }
    const ingest = new WebRtcIngest({
      ice: policy,
      maxPeers: config.max_peers ?? 100,
      sendBitrate: { minBps: bw.min, maxBps: bw.max, startBps: bw.start },
      log,
    });
    webrtcRoutes(app, ctx, ctx.wsHandlers, server, ingest);
    // webrtc: sources dial out with the same policy (and loopback, to reach a server on this host).
    // (webrtc: sources are the offering side and use their own sockets, not the shared port.)
    configureWebRtcSources({ ...clientPolicy, loopback: clientPolicy.loopback ?? true });
    log.debug("webrtc ready", {
      bind: policy.bindAddress ?? "all",
      udp_ports: mux ? `shared ${mux.port}` : policy.portRange?.join("-") ?? "random per peer",
      candidates: policy.extraCandidates?.length ?? 0,
      ice_servers: policy.iceServers?.length ?? 0,
    });
    return {
      close: () => Promise.all([server.close(), ingest.close()]).then(() => opus?.close()).then(() => mux?.close()),
    };
  },
};

/**
 * The playout delay for `webrtc.jitter_buffer`, or undefined when it is not set or too long for the
 * extension (warned: a bare number is seconds, and "200" meant as milliseconds would hold video
 * for minutes).
 */
function jitterBuffer(
  config: Partial<WebrtcConfig>,
  log: { warn(msg: string, fields?: Record<string, unknown>): void },
): PlayoutDelay | undefined {
  if (config.jitter_buffer === undefined) return undefined;
  try {
    return playoutDelayOf(config.jitter_buffer);
  } catch (error) {
    log.warn(`webrtc.jitter_buffer has no effect: ${(error as Error).message}`);
    return undefined;
  }
}

/**
 * The shared ICE UDP port for `webrtc.listen`, or undefined when each peer gets its own port:
 * `listen` is "", `filters.udp_ports` asks for per-peer ports, or the port is taken (warned).
 */
async function bindSharedPort(
  config: Partial<WebrtcConfig>,
  policy: IcePolicy,
  log: { warn(msg: string, fields?: Record<string, unknown>): void },
): Promise<IceUdpMux | undefined> {
  const listen = (config.listen ?? ":8555").trim();
  if (!listen || policy.portRange) return undefined;
  const [address, network] = listen.split("/");
  const portText = /:(\d*)$/.exec(address ?? "")?.[1];
  const port = portText ? Number(portText) : 8555;
  // ICE-TCP on the same port number, as go2rtc, unless filters.networks leaves TCP out. ":8555/tcp"
  // (go2rtc: a fixed TCP port, UDP random) fixes the TCP port; UDP is one shared port picked free.
  const tcpOnly = network === "tcp";
  const networks = config.filters?.networks ?? [];
  const tcp = tcpOnly || networks.length === 0 || networks.some((n) => n.startsWith("tcp"));
  try {
    const hostname = policy.bindAddress ?? "0.0.0.0";
    const mux = await IceUdpMux.bind(tcpOnly ? { hostname, port: 0, tcpPort: port } : { hostname, port, tcp });
    if (tcp && !mux.tcp) {
      log.warn(
        `webrtc.listen "${listen}": cannot listen for ICE-TCP on port ${tcpOnly ? port : mux.port} (${mux.tcpError}); ` +
          "peers that cannot reach UDP will not connect. Free the TCP port or set another webrtc.listen.",
      );
    }
    return mux;
  } catch (error) {
    log.warn(
      `webrtc.listen "${listen}": cannot bind the shared ICE port (${(error as Error)?.message ?? error}); ` +
        "each WebRTC peer gets its own UDP port instead. Free the port or set another webrtc.listen.",
    );
    return undefined;
  }
}
