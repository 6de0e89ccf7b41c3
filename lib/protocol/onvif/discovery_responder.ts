/**
 * The device side of WS-Discovery: listens on 239.255.255.250:3702 on every IPv4 interface (or the
 * ones named) and answers each ONVIF `Probe` with a unicast `ProbeMatches` naming the device's
 * service address on the interface the prober shares a subnet with (every interface's when it
 * shares none); multicasts a `Hello` out of each interface when it starts and a `Bye` when it
 * stops, for clients that listen instead of probing. NVRs that add cameras by searching the LAN
 * (Hikvision, Synology, Blue Iris, ONVIF Device Manager) find the device this way.
 *
 * Bounded: a datagram larger than {@link MAX_PROBE_BYTES} is ignored, answers wait a random
 * 0-{@link MAX_REPLY_DELAY_MS} ms (WS-Discovery's APP_MAX_DELAY, so many devices do not answer at
 * once), at most {@link MAX_PENDING_REPLIES} wait at a time and at most
 * {@link MAX_REPLIES_PER_SECOND} go out per second, so a flood of probes cannot make it a traffic
 * amplifier or grow its timers.
 *
 * @module
 */
import { type Logger, silentLogger } from "../../core/log.ts";
import { type InterfaceAddress, networkInterfaces } from "../../runtime/interfaces.ts";
import { multicastBind, type MulticastSocket } from "../../runtime/multicast.ts";
import type { NetAddr } from "../../runtime/net_error.ts";
import {
  buildAnnouncement,
  buildProbeMatches,
  ONVIF_DEVICE_TYPES,
  OnvifDiscoveryError,
  type ProbeMatch,
  probeMatches,
  readProbe,
  WS_DISCOVERY_GROUP,
  WS_DISCOVERY_PORT,
} from "./ws_discovery.ts";

/** Datagrams larger than this are not probes worth reading. */
export const MAX_PROBE_BYTES = 16_384;
/** The longest random wait before an answer, ms. */
export const MAX_REPLY_DELAY_MS = 250;
/** Answers waiting at once; probes beyond are not answered. */
export const MAX_PENDING_REPLIES = 32;
/** Answers sent per second at most. */
export const MAX_REPLIES_PER_SECOND = 20;
const BYE_FLUSH_MS = 50;

/** Options of {@link OnvifDiscoveryResponder.start}. */
export interface DiscoveryResponderOptions {
  /** The device's endpoint address, `urn:uuid:...`; keep it stable across restarts (NVRs key devices by it). */
  endpoint: string;
  /** The device's scopes, e.g. `onvif://www.onvif.org/name/strom`. */
  scopes: readonly string[];
  /** The service addresses to announce to a prober reached through the local address `local`. */
  xaddrs(local: string): string[];
  /** Interface names to answer on; default every interface with an IPv4 address but loopback. */
  interfaces?: readonly string[];
  /** Default {@link WS_DISCOVERY_PORT}. */
  port?: number;
  /**
   * How often the interfaces are looked at again, ms (default {@link DEFAULT_RESCAN_MS}; 0: never).
   * An interface that appears or gets a new address later (DHCP, a VPN, a container network) is
   * joined and announced with a Hello; one that is gone is dropped.
   */
  rescanMs?: number;
  log?: Logger;
}

/** How often a responder looks at the interfaces again by default, ms. */
export const DEFAULT_RESCAN_MS = 30_000;

/**
 * A running WS-Discovery responder.
 *
 * @example
 * ```ts
 * const responder = await OnvifDiscoveryResponder.start({
 *   endpoint: "urn:uuid:5f0c6e1e-8f57-4c39-9d6a-1b7e0c2f4a10",
 *   scopes: ["onvif://www.onvif.org/name/strom"],
 *   xaddrs: (local) => [`http://${local}:1984/onvif/device_service`],
 * });
 * // ... NVRs on the LAN now find it ...
 * await responder.close();
 * ```
 */
export class OnvifDiscoveryResponder {
  /** The interfaces it listens on now (name and address). */
  get interfaces(): readonly InterfaceAddress[] {
    return this.#interfaces;
  }
  /** The endpoint address it answers with. */
  readonly endpoint: string;
  readonly #socket: MulticastSocket;
  /** One socket per interface for multicasting Hello and Bye out of it. */
  readonly #announcers: Announcer[] = [];
  readonly #options: DiscoveryResponderOptions;
  #interfaces: InterfaceAddress[] = [];
  #rescanTimer: ReturnType<typeof setInterval> | undefined;
  readonly #log: Logger;
  readonly #pending = new Set<ReturnType<typeof setTimeout>>();
  readonly #decoder = new TextDecoder();
  readonly #encoder = new TextEncoder();
  readonly #instanceId = Math.floor(Date.now() / 1000);
  #messageNumber = 0;
  #second = 0;
  #sentThisSecond = 0;
  #closed = false;
  #rescanning = false;
  /** Interfaces (name and address) that could not join, warned about once. */
  readonly #refused = new Set<string>();

  // Joins nothing yet: `start` and `rescan` add interfaces through `#join`.
  private constructor(socket: MulticastSocket, options: DiscoveryResponderOptions) {
    this.#socket = socket;
    this.endpoint = options.endpoint;
    this.#options = options;
    this.#log = options.log ?? silentLogger;
    socket.onMessage = (data, from) => this.#onDatagram(data, from);
  }

  /**
   * Binds the discovery port and joins the group on each interface. Rejects when the port cannot be
   * bound, or with an {@link OnvifDiscoveryError} when no interface could join (it says which and
   * why). With rescans on and no interface up at all, it starts anyway (warning) and answers on the
   * first interface that comes up.
   */
  static async start(options: DiscoveryResponderOptions): Promise<OnvifDiscoveryResponder> {
    const wanted = options.interfaces;
    const log = options.log ?? silentLogger;
    const candidates = interfaceCandidates(wanted);
    const socket = await multicastBind({ port: options.port ?? WS_DISCOVERY_PORT });
    const responder = new OnvifDiscoveryResponder(socket, options);
    const refused = await responder.#join(candidates, false);
    if (refused.length > 0) log.warn("WS-Discovery: some interfaces could not join the group", { refused });
    const rescanMs = options.rescanMs ?? DEFAULT_RESCAN_MS;
    // Nothing up yet (a host whose network comes up after strom): with rescans, wait for it.
    const waiting = candidates.length === 0 && rescanMs > 0;
    const none = wanted
      ? `no IPv4 address on ${wanted.join(", ")}`
      : "no interface with an IPv4 address besides loopback";
    if (waiting) {
      log.warn(
        `WS-Discovery: ${none} yet; probes are answered once one comes up (looked for every ${
          rescanMs / 1000
        } s)`,
      );
    }
    if (responder.#interfaces.length === 0 && !waiting) {
      // Nothing joined, so no announcer was bound and nothing announced.
      socket.close();
      throw new OnvifDiscoveryError(
        candidates.length === 0
          ? `WS-Discovery has no interface to listen on: ${none}.`
          : `WS-Discovery could not join ${WS_DISCOVERY_GROUP} on any interface: ${refused.join("; ")}.`,
        refused,
      );
    }
    responder.#announce("Hello");
    if (rescanMs > 0) {
      responder.#rescanTimer = setInterval(() => void responder.rescan(), rescanMs);
      // A responder nobody closed must not keep the process alive.
      (responder.#rescanTimer as { unref?: () => void }).unref?.();
    }
    return responder;
  }

  /**
   * Looks at the interfaces again now (it also does every `rescanMs`): joins the group on each new
   * interface or address and sends a Hello out of it; drops the ones that are gone.
   */
  async rescan(): Promise<void> {
    if (this.#closed || this.#rescanning) return;
    this.#rescanning = true;
    try {
      const now = interfaceCandidates(this.#options.interfaces);
      const present = new Set(now.map(interfaceKey));
      for (const k of this.#refused) if (!present.has(k)) this.#refused.delete(k);
      const gone = this.#interfaces.filter((a) => !present.has(interfaceKey(a)));
      this.#interfaces = this.#interfaces.filter((a) => present.has(interfaceKey(a)));
      for (const a of gone) {
        const announcer = this.#announcers.findIndex((b) => b.address === a.address);
        if (announcer >= 0) this.#announcers.splice(announcer, 1)[0].socket.close();
        // The membership went with the address; leaving it is best effort.
        this.#socket.leave(WS_DISCOVERY_GROUP, a.address);
        this.#log.info("WS-Discovery: interface gone, no longer answering there", {
          interface: a.name,
          address: a.address,
        });
      }
      const known = new Set(this.#interfaces.map(interfaceKey));
      await this.#join(now.filter((a) => !known.has(interfaceKey(a))), true);
    } finally {
      this.#rescanning = false;
    }
  }

  /**
   * Joins the group on each interface of `list` and binds its announcer. At start the caller
   * reports refusals together (returned) and says one Hello for all; at a rescan each new interface
   * gets its Hello and a log line, and a refusal is warned about once per interface and address
   * (debug after: it is tried again at every rescan).
   */
  async #join(list: readonly InterfaceAddress[], rescan: boolean): Promise<string[]> {
    const refused: string[] = [];
    for (const a of list) {
      if (this.#closed) break;
      const key = interfaceKey(a);
      const result = this.#socket.join(WS_DISCOVERY_GROUP, a.address);
      if (!result.ok) {
        refused.push(`${a.name} (${a.address}): ${result.error}`);
        if (rescan) {
          const details = { interface: a.name, address: a.address, error: result.error };
          if (this.#refused.has(key)) {
            this.#log.debug("WS-Discovery: an interface still cannot join the group", details);
          } else {
            this.#log.warn("WS-Discovery: an interface could not join the group", details);
          }
        }
        this.#refused.add(key);
        continue;
      }
      this.#refused.delete(key);
      this.#interfaces.push(a);
      const announcer = await bindAnnouncer(a, this.#log);
      if (this.#closed) {
        announcer?.socket.close();
        break;
      }
      if (announcer) {
        this.#announcers.push(announcer);
        if (rescan) this.#announceOn(announcer, "Hello");
      }
      if (rescan) {
        this.#log.info("WS-Discovery: answering probes on a new interface", {
          interface: a.name,
          address: a.address,
        });
      }
    }
    return refused;
  }

  // Multicasts a Hello or Bye out of every interface, with that interface's service address.
  #announce(action: "Hello" | "Bye"): void {
    for (const announcer of this.#announcers) this.#announceOn(announcer, action);
  }

  #announceOn({ socket, address }: Announcer, action: "Hello" | "Bye"): void {
    const xml = buildAnnouncement({
      action,
      match: this.#match(this.#options.xaddrs(address)),
      instanceId: this.#instanceId,
      messageNumber: ++this.#messageNumber,
    });
    socket.send(this.#encoder.encode(xml), WS_DISCOVERY_PORT, WS_DISCOVERY_GROUP);
  }

  #match(xaddrs: string[]): ProbeMatch {
    return {
      endpoint: this.#options.endpoint,
      types: [...ONVIF_DEVICE_TYPES],
      scopes: [...this.#options.scopes],
      xaddrs,
      metadataVersion: 1,
    };
  }

  #onDatagram(data: Uint8Array, from: NetAddr): void {
    if (this.#closed || data.byteLength > MAX_PROBE_BYTES) return;
    const probe = readProbe(this.#decoder.decode(data));
    if (!probe) return;
    if (!probeMatches(probe, ONVIF_DEVICE_TYPES, this.#options.scopes)) {
      this.#log.debug("WS-Discovery probe for other devices", {
        from: from.hostname,
        types: probe.types.map((t) => t.local),
        scopes: probe.scopes,
      });
      return;
    }
    if (this.#pending.size >= MAX_PENDING_REPLIES) return;
    const timer = setTimeout(() => {
      this.#pending.delete(timer);
      this.#reply(probe.messageId, from);
    }, Math.floor(Math.random() * MAX_REPLY_DELAY_MS));
    this.#pending.add(timer);
  }

  #reply(relatesTo: string, to: NetAddr): void {
    if (this.#closed) return;
    const second = Math.floor(Date.now() / 1000);
    if (second !== this.#second) {
      this.#second = second;
      this.#sentThisSecond = 0;
    }
    const locals = this.#localAddressesFor(to.hostname);
    // The probe came in on an interface not served (or none is joined yet) through another socket's
    // membership: no address to give.
    if (locals.length === 0) return;
    if (this.#sentThisSecond >= MAX_REPLIES_PER_SECOND) return;
    this.#sentThisSecond++;
    const xaddrs = locals.flatMap((a) => this.#options.xaddrs(a));
    const xml = buildProbeMatches({
      relatesTo,
      match: this.#match(xaddrs),
      instanceId: this.#instanceId,
      messageNumber: ++this.#messageNumber,
    });
    this.#socket.send(this.#encoder.encode(xml), to.port, to.hostname);
    this.#log.debug("WS-Discovery probe answered", { to: `${to.hostname}:${to.port}`, xaddrs });
  }

  /**
   * The address of the joined interface on the prober's subnet. A prober on the subnet of another
   * interface of this host (one left out by `interfaces`, or not joined yet) gets none: its probe
   * came in there only because some other socket joined the group on it (Linux hands a group's
   * datagrams to every socket bound to the port, `IP_MULTICAST_ALL`), and that interface is not
   * served. A prober on no local subnet (routed multicast) gets every joined interface's address.
   */
  #localAddressesFor(peer: string): string[] {
    const peerBits = ipv4Bits(peer);
    if (peerBits === undefined) return this.#interfaces.map((a) => a.address);
    const joined = this.#interfaces.find((a) => onSubnet(a, peerBits));
    if (joined) return [joined.address];
    const other = interfaceCandidates(undefined).some((a) => onSubnet(a, peerBits));
    return other ? [] : this.#interfaces.map((a) => a.address);
  }

  /**
   * Multicasts a Bye, stops answering and closes the sockets (pending answers are dropped).
   * Idempotent; resolves once the Bye had time to leave.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#rescanTimer);
    for (const timer of this.#pending) clearTimeout(timer);
    this.#pending.clear();
    this.#socket.close();
    this.#announce("Bye");
    // node:dgram sends on a later tick; closing at once would cancel the Bye.
    await new Promise((resolve) => setTimeout(resolve, BYE_FLUSH_MS));
    for (const { socket } of this.#announcers) socket.close();
  }
}

type Announcer = { socket: MulticastSocket; address: string };

const interfaceKey = (a: InterfaceAddress) => `${a.name} ${a.address}`;

// The IPv4 interfaces to answer on: the ones named, or every one but loopback.
function interfaceCandidates(wanted: readonly string[] | undefined): InterfaceAddress[] {
  return networkInterfaces().filter((a) =>
    a.family === "IPv4" && (wanted ? wanted.includes(a.name) : !a.internal)
  );
}

// A socket that sends out of one interface, for its Hello and Bye; undefined (with a warning) when
// the system refuses it: probes are still answered there.
async function bindAnnouncer(a: InterfaceAddress, log: Logger): Promise<Announcer | undefined> {
  try {
    return {
      socket: await multicastBind({ hostname: a.address, port: 0, multicastInterface: a.address }),
      address: a.address,
    };
  } catch (error) {
    log.warn("WS-Discovery: cannot announce on an interface (probes are still answered there)", {
      interface: a.name,
      error,
    });
    return undefined;
  }
}

// Whether the IPv4 address `peerBits` is on interface `a`'s subnet.
function onSubnet(a: InterfaceAddress, peerBits: number): boolean {
  const local = ipv4Bits(a.address);
  const mask = ipv4Bits(a.netmask);
  return local !== undefined && mask !== undefined && ((local & mask) >>> 0) === ((peerBits & mask) >>> 0);
}

// A dotted IPv4 address as an unsigned 32-bit number; undefined when it is not one.
function ipv4Bits(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let bits = 0;
  for (const p of parts) {
    const n = Number(p);
    if (!/^\d{1,3}$/.test(p) || n > 255) return undefined;
    bits = ((bits << 8) | n) >>> 0;
  }
  return bits;
}
