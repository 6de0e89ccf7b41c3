/**
 * Finding ONVIF cameras on the LAN (WS-Discovery): a `Probe` multicast out of every IPv4 interface
 * (or the ones named), once for network video transmitters and once for ONVIF devices (cameras
 * answer one or the other), then the unicast `ProbeMatches` collected for a few seconds, one entry
 * per device.
 *
 * @module
 */
import { abortableSleep } from "../../core/abortable_sleep.ts";
import { multicastBind, type MulticastSocket } from "../../runtime/multicast.ts";
import { networkInterfaces } from "../../runtime/interfaces.ts";
import {
  buildProbe,
  newMessageId,
  ONVIF_DEVICE_TYPES,
  OnvifDiscoveryError,
  type QualifiedType,
  readProbeMatches,
  WS_DISCOVERY_GROUP,
  WS_DISCOVERY_PORT,
} from "./ws_discovery.ts";

/** How long {@link discoverOnvif} waits for answers by default (ONVIF's MATCH_TIMEOUT is 2-5 s). */
export const DISCOVERY_TIMEOUT_MS = 3_000;

/** A device that answered a probe. */
export interface DiscoveredDevice {
  /** Its endpoint address (`urn:uuid:...`), stable across restarts for a well-behaved device. */
  endpoint: string;
  /** Its service addresses, e.g. `["http://192.168.1.10/onvif/device_service"]`. */
  xaddrs: string[];
  scopes: string[];
  types: QualifiedType[];
  /** The address the answer came from. */
  from: string;
  /** The interface the probe left from. */
  interface: string;
  /** The scope `onvif://www.onvif.org/name/<name>`, decoded, when the device gives one. */
  name?: string;
  /** The scope `onvif://www.onvif.org/hardware/<model>`, decoded, when the device gives one. */
  hardware?: string;
}

/** Options of {@link discoverOnvif}. */
export interface DiscoverOptions {
  /** How long to collect answers, ms. Default {@link DISCOVERY_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** Interface names to probe from (`eth0`...); default every interface with an IPv4 address but loopback. */
  interfaces?: readonly string[];
  /** Ends the search early (what was found so far is returned). */
  signal?: AbortSignal;
}

const MAX_DEVICES = 1024;
const REPEAT_DELAY_MS = 250;

/**
 * Multicasts WS-Discovery probes and returns the ONVIF devices that answered, in answer order.
 * Rejects with an {@link OnvifDiscoveryError} when there is no interface to probe from.
 *
 * @example
 * ```ts
 * for (const cam of await discoverOnvif()) console.log(cam.name, cam.xaddrs[0]);
 * ```
 */
export async function discoverOnvif(options: DiscoverOptions = {}): Promise<DiscoveredDevice[]> {
  const wanted = options.interfaces;
  const all = networkInterfaces().filter((a) => a.family === "IPv4");
  const chosen = all.filter((a) => wanted ? wanted.includes(a.name) : !a.internal);
  if (chosen.length === 0) {
    const names = [...new Set(all.map((a) => a.name))];
    throw new OnvifDiscoveryError(
      wanted
        ? `No IPv4 address on the interface(s) ${
          wanted.join(", ")
        } to search for ONVIF cameras from (interfaces with IPv4: ${names.join(", ") || "none"}).`
        : `No network interface with an IPv4 address besides loopback to search for ONVIF cameras from (interfaces: ${
          names.join(", ") || "none"
        }).`,
      names,
    );
  }
  const sockets: Array<{ socket: MulticastSocket; name: string }> = [];
  const errors: string[] = [];
  for (const a of chosen) {
    try {
      sockets.push({
        socket: await multicastBind({ hostname: a.address, port: 0, multicastInterface: a.address }),
        name: a.name,
      });
    } catch (error) {
      errors.push(`${a.name} (${a.address}): ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (sockets.length === 0) {
    throw new OnvifDiscoveryError(
      `Cannot send a WS-Discovery probe from any interface: ${errors.join("; ")}.`,
      errors,
    );
  }
  const found = new Map<string, DiscoveredDevice>();
  const ids = ONVIF_DEVICE_TYPES.map(() => newMessageId());
  const probes = ONVIF_DEVICE_TYPES.map((type, i) => new TextEncoder().encode(buildProbe(ids[i], [type])));
  const decoder = new TextDecoder();
  try {
    for (const { socket, name } of sockets) {
      socket.onMessage = (data, from) => {
        if (found.size >= MAX_DEVICES) return;
        const answer = readProbeMatches(decoder.decode(data));
        // Some cameras leave RelatesTo out; an answer naming another probe is not for us.
        if (!answer || (answer.relatesTo && !ids.includes(answer.relatesTo))) return;
        for (const m of answer.matches) {
          const key = m.endpoint || m.xaddrs.join(" ");
          if (found.has(key)) continue;
          found.set(key, {
            endpoint: m.endpoint,
            xaddrs: m.xaddrs,
            scopes: m.scopes,
            types: m.types,
            from: from.hostname,
            interface: name,
            name: scopeValue(m.scopes, "name"),
            hardware: scopeValue(m.scopes, "hardware"),
          });
        }
      };
    }
    // UDP multicast is lossy: each probe goes out twice (WS-Discovery's MULTICAST_UDP_REPEAT).
    const timeoutMs = options.timeoutMs ?? DISCOVERY_TIMEOUT_MS;
    const repeatMs = Math.min(REPEAT_DELAY_MS, timeoutMs / 2);
    for (const { socket } of sockets) {
      for (const probe of probes) socket.send(probe, WS_DISCOVERY_PORT, WS_DISCOVERY_GROUP);
    }
    await abortableSleep(repeatMs, options.signal);
    if (!options.signal?.aborted) {
      for (const { socket } of sockets) {
        for (const probe of probes) socket.send(probe, WS_DISCOVERY_PORT, WS_DISCOVERY_GROUP);
      }
    }
    await abortableSleep(timeoutMs - repeatMs, options.signal);
  } finally {
    for (const { socket } of sockets) socket.close();
  }
  return [...found.values()];
}

/**
 * go2rtc's form of a discovered device as a source to add: `onvif://user:pass@host[:port]` (the
 * placeholder credentials are for the user to replace), the path kept unless it is the usual
 * `/onvif/device_service`. `undefined` when the device gives no `http://` service address.
 *
 * @example
 * ```ts
 * onvifSourceUrl({ xaddrs: ["http://192.168.1.10:8000/onvif/device_service"] }); // "onvif://user:pass@192.168.1.10:8000"
 * ```
 */
export function onvifSourceUrl(device: Pick<DiscoveredDevice, "xaddrs">): string | undefined {
  for (const xaddr of device.xaddrs) {
    let url: URL;
    try {
      url = new URL(xaddr);
    } catch {
      continue;
    }
    if (url.protocol !== "http:") continue;
    const path = url.pathname === "/onvif/device_service" || url.pathname === "/" ? "" : url.pathname;
    return `onvif://user:pass@${url.host}${path}`;
  }
  return undefined;
}

/**
 * What a device says it is: its name scope, and its hardware scope when that differs.
 *
 * @example
 * ```ts
 * deviceLabels({ name: "Front door", hardware: "IPC-K42" }); // ["Front door", "IPC-K42"]
 * ```
 */
export function deviceLabels(d: Pick<DiscoveredDevice, "name" | "hardware">): string[] {
  return [d.name ?? "", d.hardware && d.hardware !== d.name ? d.hardware : ""].filter(Boolean);
}

function scopeValue(scopes: readonly string[], key: string): string | undefined {
  const prefix = `onvif://www.onvif.org/${key}/`;
  const scope = scopes.find((s) => s.toLowerCase().startsWith(prefix));
  if (!scope) return undefined;
  try {
    return decodeURIComponent(scope.slice(prefix.length));
  } catch {
    return scope.slice(prefix.length);
  }
}
