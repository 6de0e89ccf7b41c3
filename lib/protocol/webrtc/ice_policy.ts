/**
 * Which ICE candidates strom gathers and announces, from go2rtc's `webrtc:` config: the address to
 * bind, the UDP port range, STUN/TURN servers, extra `candidates` (a public IP or host name in
 * front of a NAT) and the `filters`. Pure functions over candidate lines, so the same policy serves
 * playback, WHEP and (later) WHIP ingest.
 *
 * @module
 */
import type { IceUdpMux } from "./ice_mux.ts";
import { formatCandidate, type IceCandidateLine, parseCandidate } from "./sdp.ts";

/** One STUN/TURN server, as in `RTCIceServer`. */
export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

/**
 * What the WebRTC stack may use for ICE, and what it announces.
 *
 * @example
 * ```ts
 * const policy: IcePolicy = { bindAddress: "127.0.0.1", portRange: [50000, 50100], extraCandidates: ["203.0.113.7"] };
 * ```
 */
export interface IcePolicy {
  /** STUN/TURN servers for strom's own gathering (srflx/relay candidates). Default none. */
  iceServers?: IceServer[];
  /** Bind ICE sockets to this local IPv4 address only (the host part of `webrtc.listen`). */
  bindAddress?: string;
  /** UDP (and ICE-TCP) ports are taken from this range, inclusive (`filters.udp_ports`). */
  portRange?: [number, number];
  /** Network types to gather on: `udp4`, `udp6`, `tcp4`, `tcp6` (`filters.networks`). Default udp4. */
  networks?: readonly string[];
  /** Also gather on loopback (`filters.loopback`). */
  loopback?: boolean;
  /** Announce only local candidates with these IPs (`filters.ips`). */
  ips?: readonly string[];
  /**
   * Announce only local host candidates on these addresses: those of the interfaces named in
   * `filters.interfaces`, resolved at load. An empty list announces no local host candidate.
   */
  interfaceAddresses?: readonly string[];
  /** Announce only candidates with these addresses, local or extra (`filters.candidates`). */
  onlyCandidates?: readonly string[];
  /**
   * Extra host candidates (`candidates`): `ip`, `ip:port`, `host.name:port`. Each is announced with
   * the port of every local UDP host candidate (werift gives each peer its own UDP port; a port
   * written here is not used), before the local ones.
   */
  extraCandidates?: readonly string[];
  /**
   * The shared ICE UDP port (`webrtc.listen`): UDP host candidates are announced on its port instead
   * of werift's per-peer ones, server-reflexive UDP candidates (werift's own ports) are not
   * announced, and the peer's UDP candidates are not given to werift, so every datagram passes
   * through the one port. Sessions register their ufrag with it (see ice_mux.ts).
   */
  mux?: IceUdpMux;
}

/** The werift `RTCPeerConnection` ICE options for a policy. */
export interface WeriftIceConfig {
  iceServers: { urls: string | string[]; username?: string; credential?: string }[];
  iceUseIpv4: boolean;
  iceUseIpv6: boolean;
  iceUseTcp: boolean;
  icePortRange?: [number, number];
  iceInterfaceAddresses?: { udp4?: string; udp6?: string };
  iceAdditionalHostAddresses?: string[];
}

/**
 * werift's ICE options for a policy.
 *
 * @example
 * ```ts
 * new RTCPeerConnection({ ...weriftIceConfig({ bindAddress: "127.0.0.1" }), codecs });
 * ```
 */
export function weriftIceConfig(policy: IcePolicy): WeriftIceConfig {
  const networks = policy.networks?.length ? policy.networks : ["udp4"];
  const config: WeriftIceConfig = {
    iceServers: (policy.iceServers ?? []).map((s) => ({ ...s })),
    iceUseIpv4: networks.includes("udp4") || networks.includes("tcp4"),
    iceUseIpv6: networks.includes("udp6") || networks.includes("tcp6"),
    // With ICE-TCP on the shared port werift gathers no TCP of its own (its ports would bypass it).
    iceUseTcp: (networks.includes("tcp4") || networks.includes("tcp6")) && !policy.mux?.tcp,
  };
  if (policy.portRange) {
    const [min, max] = policy.portRange;
    // werift needs min < max.
    config.icePortRange = [min, max > min ? max : min + 1];
  }
  const extraHosts: string[] = [];
  if (policy.bindAddress && policy.bindAddress !== "0.0.0.0" && policy.bindAddress !== "::") {
    if (policy.bindAddress.includes(":")) config.iceInterfaceAddresses = { udp6: policy.bindAddress };
    else config.iceInterfaceAddresses = { udp4: policy.bindAddress };
    extraHosts.push(policy.bindAddress);
  }
  if (policy.loopback) {
    if (config.iceUseIpv4 && !extraHosts.includes("127.0.0.1")) extraHosts.push("127.0.0.1");
    if (config.iceUseIpv6 && !extraHosts.includes("::1")) extraHosts.push("::1");
  }
  if (extraHosts.length) config.iceAdditionalHostAddresses = extraHosts;
  return config;
}

/**
 * Turns the local candidates the stack gathered into the ones to announce: drops those the policy
 * filters out (a bound address announces only itself), then puts the configured extra candidates
 * first. Lines that do not parse are dropped.
 *
 * @example
 * ```ts
 * announceCandidates(["candidate:1 1 udp 2130706431 10.0.0.5 50123 typ host"], { extraCandidates: ["203.0.113.7"] });
 * // ["candidate:x0 1 udp 2130706432 203.0.113.7 50123 typ host", "candidate:1 1 udp ... 10.0.0.5 50123 typ host"]
 * ```
 */
export function announceCandidates(local: readonly string[], policy: IcePolicy): string[] {
  const kept: IceCandidateLine[] = [];
  const ports: IceCandidateLine[] = []; // one local UDP host candidate per port: where extras lead
  for (const line of local) {
    const c = parseCandidate(line);
    if (!c) continue;
    if (c.type === "host" && c.protocol === "udp" && !isLoopback(c.address) && !ports.some((p) => p.port === c.port)) {
      ports.push(c);
    }
    if (keepLocal(c, policy)) kept.push(c);
  }
  if (ports.length === 0) ports.push(...kept.filter((c) => c.type === "host" && c.protocol === "udp"));
  const extras: IceCandidateLine[] = [];
  const hosts = (policy.extraCandidates ?? []).map(candidateHost).filter((h): h is string => !!h);
  hosts.forEach((host, i) => {
    if (policy.onlyCandidates?.length && !policy.onlyCandidates.includes(host)) return;
    for (const local of ports) {
      if (local.address === host) continue;
      extras.push({
        foundation: `x${i}`,
        component: local.component,
        protocol: "udp",
        // Earlier entries first, all above the local candidates (go2rtc's order).
        priority: Math.min(0xffffffff, local.priority + (hosts.length - i)),
        address: host,
        port: local.port,
        type: "host",
        rest: "",
      });
    }
  });
  const all = [...extras, ...kept];
  const mux = policy.mux;
  return (mux ? onMuxPort(all, mux.port, mux.tcp ? mux.tcpPort ?? mux.port : undefined) : all).map(formatCandidate);
}

/**
 * With the shared port: UDP host candidates move to its port (one per address), UDP srflx go; with
 * ICE-TCP, each of those addresses also gets a `tcptype passive` host candidate on the TCP port
 * (after the UDP ones, at a lower priority, so peers that can use UDP do).
 */
function onMuxPort(candidates: IceCandidateLine[], port: number, tcpPort: number | undefined): IceCandidateLine[] {
  const tcp = tcpPort !== undefined;
  const out: IceCandidateLine[] = [];
  const hosts: IceCandidateLine[] = [];
  const seen = new Set<string>();
  for (const c of candidates) {
    if (c.protocol !== "udp") {
      if (!tcp) out.push(c); // werift's own TCP candidates do not gather when the port serves TCP
      continue;
    }
    if (c.type !== "host") continue; // srflx/relay of werift's own sockets: not reachable through the mux
    if (seen.has(c.address)) continue;
    seen.add(c.address);
    const onPort = { ...c, port };
    out.push(onPort);
    hosts.push(onPort);
  }
  if (tcp) {
    hosts.forEach((c, i) => {
      out.push({
        foundation: `t${c.foundation}`,
        component: c.component,
        protocol: "tcp",
        // Passive direction; earlier addresses first.
        priority: tcpPriority(hosts.length - i, c.component),
        address: c.address,
        port: tcpPort,
        type: "host",
        rest: "tcptype passive",
      });
    });
  }
  return out;
}

/** An ICE-TCP passive host candidate's priority (RFC 8445 §5.1.2.1 with RFC 6544 §4.2 local preference). */
function tcpPriority(order: number, component: number): number {
  const typePreference = 90; // below UDP host (126) and srflx (100): peers that can use UDP do
  const directionPreference = 4; // passive, for a host candidate (RFC 6544 §4.2)
  const localPreference = (directionPreference << 13) | Math.min(order, 0x1fff);
  return typePreference * 2 ** 24 + localPreference * 2 ** 8 + (256 - component);
}

/**
 * Whether a remote candidate goes to werift: with the shared port, UDP ones do not (werift learns
 * the peer through the mux's relay, so no datagram bypasses the port), nor TCP ones when the port
 * serves ICE-TCP (the peer connects to it); everything else does.
 *
 * @example
 * ```ts
 * acceptRemoteCandidate("candidate:1 1 udp 2113937151 192.168.1.7 54321 typ host", { mux }); // false
 * ```
 */
export function acceptRemoteCandidate(line: string, policy: IcePolicy): boolean {
  if (!policy.mux) return true;
  const c = parseCandidate(line.trim().replace(/^a=/, ""));
  return !c || (c.protocol !== "udp" && !(c.protocol === "tcp" && policy.mux.tcp));
}

function keepLocal(c: IceCandidateLine, policy: IcePolicy): boolean {
  if (c.protocol === "tcp" && c.rest.includes("tcptype active")) return false; // never useful to announce
  if (policy.bindAddress && policy.bindAddress !== "0.0.0.0" && policy.bindAddress !== "::" && c.type === "host") {
    if (c.address !== policy.bindAddress) return false;
  }
  if (policy.ips?.length && c.type === "host" && !policy.ips.includes(c.address)) return false;
  if (policy.interfaceAddresses && c.type === "host" && !policy.interfaceAddresses.includes(c.address)) return false;
  if (policy.onlyCandidates?.length && !policy.onlyCandidates.includes(c.address)) return false;
  if (!policy.loopback && !policy.bindAddress && isLoopback(c.address)) return false;
  return true;
}

function isLoopback(address: string): boolean {
  return address.startsWith("127.") || address === "::1";
}

/** The host part of a `candidates` entry (`ip`, `ip:port`, `[v6]:port`, `name:port`); undefined for `stun:...`. */
export function candidateHost(entry: string): string | undefined {
  const text = entry.trim();
  if (!text || /^stun:/i.test(text)) return undefined;
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(text);
  if (v6) return v6[1];
  const colons = text.split(":").length - 1;
  if (colons > 1) return text; // bare IPv6
  return colons === 1 ? text.slice(0, text.indexOf(":")) : text;
}
