/**
 * WS-Discovery (the 2005/04 version ONVIF Core section 7.3 uses) messages, transport-free: the
 * multicast `Probe` a client sends to 239.255.255.250:3702 to find cameras, the unicast
 * `ProbeMatches` a device answers with (its endpoint address, types, scopes and service addresses),
 * the `Hello` and `Bye` a device multicasts when it comes and goes, and the matching rule a device
 * applies to a probe's types and scopes.
 *
 * @module
 */
import { elementText, findElements, startTags, xmlEscape } from "./soap.ts";

/** The WS-Discovery multicast group (IPv4) and port. */
export const WS_DISCOVERY_GROUP = "239.255.255.250";
/** The WS-Discovery port. */
export const WS_DISCOVERY_PORT = 3702;

const NS_SOAP = "http://www.w3.org/2003/05/soap-envelope";
const NS_ADDRESSING = "http://schemas.xmlsoap.org/ws/2004/08/addressing";
const NS_DISCOVERY = "http://schemas.xmlsoap.org/ws/2005/04/discovery";
const ANONYMOUS = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous";
const DISCOVERY_TO = "urn:schemas-xmlsoap-org:ws:2005:04:discovery";

/**
 * WS-Discovery cannot run: no interface to probe from or listen on, or the system refused the
 * socket. `interfaces` lists what was tried (`name (address): reason`) or what exists.
 *
 * @example
 * ```ts
 * try {
 *   await discoverOnvif({ interfaces: ["eth9"] });
 * } catch (e) {
 *   if (e instanceof OnvifDiscoveryError) console.error(e.message, e.interfaces);
 * }
 * ```
 */
export class OnvifDiscoveryError extends Error {
  override name = "OnvifDiscoveryError";
  constructor(message: string, readonly interfaces: readonly string[]) {
    super(message);
  }
}

/** Namespaces of the types ONVIF devices announce. */
export const ONVIF_TYPE_NS = {
  network: "http://www.onvif.org/ver10/network/wsdl",
  device: "http://www.onvif.org/ver10/device/wsdl",
} as const;

/** A qualified type name, as a probe asks for it or a device announces it. */
export interface QualifiedType {
  /** The namespace URI; `undefined` when the message used a prefix it never declared. */
  namespace: string | undefined;
  local: string;
}

/** The types an ONVIF device (strom's ONVIF server) announces: a network video transmitter. */
export const ONVIF_DEVICE_TYPES: readonly QualifiedType[] = [
  { namespace: ONVIF_TYPE_NS.network, local: "NetworkVideoTransmitter" },
  { namespace: ONVIF_TYPE_NS.device, local: "Device" },
];

/** A probe as a device reads it. */
export interface Probe {
  messageId: string;
  /** Empty: any type. */
  types: QualifiedType[];
  /** Empty: any scope. */
  scopes: string[];
  /** The scope matching rule URI; `undefined` is the default, RFC 3986 prefix matching. */
  matchBy: string | undefined;
}

/** One device in a `ProbeMatches` answer. */
export interface ProbeMatch {
  /** The device's stable endpoint address, e.g. `urn:uuid:...`. */
  endpoint: string;
  types: QualifiedType[];
  scopes: string[];
  /** Service addresses, e.g. `["http://192.168.1.10/onvif/device_service"]`. */
  xaddrs: string[];
  metadataVersion: number;
}

/** A new `urn:uuid:` message ID (random, RFC 4122 version 4). */
export function newMessageId(): string {
  return `urn:uuid:${crypto.randomUUID()}`;
}

/**
 * The `Probe` a client multicasts. `types` defaults to an ONVIF network video transmitter
 * (`dn:NetworkVideoTransmitter`, what ONVIF Core asks clients to probe for).
 *
 * @example
 * ```ts
 * const xml = buildProbe("urn:uuid:0a4d...", [{ namespace: ONVIF_TYPE_NS.device, local: "Device" }]);
 * ```
 */
export function buildProbe(
  messageId: string,
  types: readonly QualifiedType[] = [ONVIF_DEVICE_TYPES[0]],
): string {
  return envelopeStart(types) +
    `<s:Header><a:Action s:mustUnderstand="1">${NS_DISCOVERY}/Probe</a:Action>` +
    `<a:MessageID>${xmlEscape(messageId)}</a:MessageID>` +
    `<a:ReplyTo><a:Address>${ANONYMOUS}</a:Address></a:ReplyTo>` +
    `<a:To s:mustUnderstand="1">${DISCOVERY_TO}</a:To></s:Header>` +
    `<s:Body><d:Probe><d:Types>${typeList(types)}</d:Types></d:Probe></s:Body></s:Envelope>`;
}

/** Options of {@link buildProbeMatches}. */
export interface ProbeMatchesOptions {
  /** The probe's message ID. */
  relatesTo: string;
  /** This answer's message ID (a new one when omitted). */
  messageId?: string;
  /** The device: its endpoint, types, scopes and service addresses. */
  match: ProbeMatch;
  /** `AppSequence` instance ID (changes on restart) and message number (grows per message). */
  instanceId: number;
  messageNumber: number;
}

/**
 * The `ProbeMatches` a device unicasts back to a prober.
 *
 * @example
 * ```ts
 * buildProbeMatches({ relatesTo: probe.messageId, match, instanceId: 1, messageNumber: 1 });
 * ```
 */
export function buildProbeMatches(o: ProbeMatchesOptions): string {
  return envelopeStart(o.match.types) +
    `<s:Header><a:MessageID>${xmlEscape(o.messageId ?? newMessageId())}</a:MessageID>` +
    `<a:RelatesTo>${xmlEscape(o.relatesTo)}</a:RelatesTo>` +
    `<a:To s:mustUnderstand="1">${ANONYMOUS}</a:To>` +
    `<a:Action s:mustUnderstand="1">${NS_DISCOVERY}/ProbeMatches</a:Action>` +
    appSequence(o) +
    `</s:Header><s:Body><d:ProbeMatches><d:ProbeMatch>` +
    endpointReference(o.match) +
    deviceDetails(o.match) +
    `</d:ProbeMatch></d:ProbeMatches></s:Body></s:Envelope>`;
}

/** Options of {@link buildAnnouncement}. */
export interface AnnouncementOptions {
  /** `Hello` when the device joins the network, `Bye` when it leaves. */
  action: "Hello" | "Bye";
  /** The device (a `Bye` carries its endpoint only). */
  match: ProbeMatch;
  instanceId: number;
  messageNumber: number;
  messageId?: string;
}

/**
 * The `Hello` a device multicasts when it joins the network, or the `Bye` when it leaves, so
 * clients that listen (NVRs, ONVIF Device Manager) add or drop it without probing.
 *
 * @example
 * ```ts
 * buildAnnouncement({ action: "Hello", match, instanceId: 1, messageNumber: 1 });
 * ```
 */
export function buildAnnouncement(o: AnnouncementOptions): string {
  return envelopeStart(o.match.types) +
    `<s:Header><a:Action s:mustUnderstand="1">${NS_DISCOVERY}/${o.action}</a:Action>` +
    `<a:MessageID>${xmlEscape(o.messageId ?? newMessageId())}</a:MessageID>` +
    `<a:To s:mustUnderstand="1">${DISCOVERY_TO}</a:To>` +
    appSequence(o) +
    `</s:Header><s:Body><d:${o.action}>` +
    endpointReference(o.match) +
    (o.action === "Bye" ? "" : deviceDetails(o.match)) +
    `</d:${o.action}></s:Body></s:Envelope>`;
}

/**
 * Reads a `Hello` or `Bye`; `undefined` for other messages.
 *
 * @example
 * ```ts
 * readAnnouncement(datagramText); // { action: "Hello", match: { endpoint: "urn:uuid:...", xaddrs: [...], ... } }
 * ```
 */
export function readAnnouncement(xml: string): { action: "Hello" | "Bye"; match: ProbeMatch } | undefined {
  const action = discoveryAction(xml);
  if (action !== "Hello" && action !== "Bye") return undefined;
  const body = findElements(xml, action)[0];
  return body ? { action, match: readDevice(xml, body.inner) } : undefined;
}

/**
 * The action of a WS-Discovery message (`Probe`, `ProbeMatches`, `Hello`, `Bye`...): the last path
 * segment of its `Action` header, or of its Body's first element when the header is missing.
 *
 * @example
 * ```ts
 * discoveryAction(buildProbe(newMessageId())); // "Probe"
 * ```
 */
export function discoveryAction(xml: string): string | undefined {
  const action = elementText(xml, "Action");
  if (action) return action.slice(action.lastIndexOf("/") + 1);
  const body = findElements(xml, "Body")[0];
  return body ? startTags(body.inner).next().value?.local : undefined;
}

/**
 * Reads a probe; `undefined` when `xml` is not a WS-Discovery `Probe` (another message, or not
 * XML at all).
 *
 * @example
 * ```ts
 * readProbe(buildProbe("urn:uuid:1"))?.types; // [{ namespace: "http://www.onvif.org/ver10/network/wsdl", local: "NetworkVideoTransmitter" }]
 * ```
 */
export function readProbe(xml: string): Probe | undefined {
  if (discoveryAction(xml) !== "Probe") return undefined;
  const probe = findElements(xml, "Probe")[0];
  if (!probe) return undefined;
  const scopes = findElements(probe.inner, "Scopes")[0];
  return {
    messageId: elementText(xml, "MessageID") ?? "",
    types: readTypes(xml, elementText(probe.inner, "Types") ?? ""),
    scopes: splitList(scopes ? elementText(probe.inner, "Scopes") ?? "" : ""),
    matchBy: scopes?.attributes.MatchBy || undefined,
  };
}

/**
 * Reads the devices of a `ProbeMatches` answer; `undefined` when `xml` is not one. `relatesTo` is
 * the probe's message ID the answer names (empty when it names none, which some cameras do).
 *
 * @example
 * ```ts
 * const answer = readProbeMatches(datagramText);
 * answer?.matches[0].xaddrs; // ["http://192.168.1.10/onvif/device_service"]
 * ```
 */
export function readProbeMatches(xml: string): { relatesTo: string; matches: ProbeMatch[] } | undefined {
  if (discoveryAction(xml) !== "ProbeMatches") return undefined;
  const matches: ProbeMatch[] = [];
  for (const m of findElements(xml, "ProbeMatch")) {
    const match = readDevice(xml, m.inner);
    if (match.endpoint || match.xaddrs.length > 0) matches.push(match);
  }
  return { relatesTo: elementText(xml, "RelatesTo") ?? "", matches };
}

/** The RFC 3986 prefix rule's URI (the default when a probe names none). */
export const MATCH_BY_RFC3986 = "http://schemas.xmlsoap.org/ws/2005/04/discovery/rfc3986";
/** The exact string rule's URI. */
export const MATCH_BY_STRCMP0 = "http://schemas.xmlsoap.org/ws/2005/04/discovery/strcmp0";

/**
 * Whether a device with `types` and `scopes` answers `probe`: every type it asks for is one of the
 * device's (by namespace and name; by name alone when the probe used an undeclared prefix), and
 * every scope it asks for matches one of the device's (WS-Discovery 5.1: RFC 3986 prefix by path
 * segment unless the probe says `strcmp0`; other rules match nothing).
 *
 * @example
 * ```ts
 * probeMatches(readProbe(xml)!, ONVIF_DEVICE_TYPES, ["onvif://www.onvif.org/name/strom"]); // true for a plain ONVIF probe
 * ```
 */
export function probeMatches(
  probe: Probe,
  types: readonly QualifiedType[],
  scopes: readonly string[],
): boolean {
  for (const want of probe.types) {
    const has = types.some((t) =>
      t.local === want.local && (want.namespace === undefined || t.namespace === want.namespace)
    );
    if (!has) return false;
  }
  const rule = probe.matchBy ?? MATCH_BY_RFC3986;
  for (const want of probe.scopes) {
    const has = scopes.some((s) => {
      if (rule === MATCH_BY_STRCMP0) return s === want;
      if (rule !== MATCH_BY_RFC3986) return false;
      const prefix = want.replace(/\/+$/, "");
      return s === prefix || s.startsWith(`${prefix}/`);
    });
    if (!has) return false;
  }
  return true;
}

// The XML declaration and Envelope start, with the namespaces of `types`.
function envelopeStart(types: readonly QualifiedType[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?>` +
    `<s:Envelope xmlns:s="${NS_SOAP}" xmlns:a="${NS_ADDRESSING}" xmlns:d="${NS_DISCOVERY}"${
      typeNamespaces(types)
    }>`;
}

function appSequence(o: { instanceId: number; messageNumber: number }): string {
  return `<d:AppSequence s:mustUnderstand="true" InstanceId="${o.instanceId}" MessageNumber="${o.messageNumber}"/>`;
}

function endpointReference(m: ProbeMatch): string {
  return `<a:EndpointReference><a:Address>${xmlEscape(m.endpoint)}</a:Address></a:EndpointReference>`;
}

// A device's types, scopes, service addresses and metadata version, as ProbeMatch and Hello carry them.
function deviceDetails(m: ProbeMatch): string {
  return `<d:Types>${typeList(m.types)}</d:Types>` +
    `<d:Scopes>${m.scopes.map(xmlEscape).join(" ")}</d:Scopes>` +
    `<d:XAddrs>${m.xaddrs.map(xmlEscape).join(" ")}</d:XAddrs>` +
    `<d:MetadataVersion>${m.metadataVersion}</d:MetadataVersion>`;
}

// A device from the inner XML of a ProbeMatch, Hello or Bye (`xml`, the whole message, declares the
// types' prefixes); missing elements read as empty.
function readDevice(xml: string, inner: string): ProbeMatch {
  return {
    endpoint: elementText(inner, "Address") ?? "",
    types: readTypes(xml, elementText(inner, "Types") ?? ""),
    scopes: splitList(elementText(inner, "Scopes") ?? ""),
    xaddrs: splitList(elementText(inner, "XAddrs") ?? ""),
    metadataVersion: Number(elementText(inner, "MetadataVersion") ?? 0) || 0,
  };
}

function splitList(text: string): string[] {
  return text.split(/\s+/).filter(Boolean);
}

// QNames such as "dn:NetworkVideoTransmitter", their prefixes resolved against the declarations
// anywhere in the message (clients declare them on the element, the Envelope or the Header).
// An undeclared prefix leaves the namespace undefined.
function readTypes(xml: string, text: string): QualifiedType[] {
  return splitList(text).map((qname) => {
    const i = qname.indexOf(":");
    // Unprefixed: the default namespace is rarely the type's own; match the name alone.
    if (i < 0) return { namespace: undefined, local: qname };
    const prefix = qname.slice(0, i).replace(/[^\w.-]/g, "");
    const namespace = new RegExp(`xmlns:${prefix}\\s*=\\s*["']([^"']*)["']`).exec(xml)?.[1];
    return { namespace, local: qname.slice(i + 1) };
  });
}

// Prefixes dn, tds... for the namespaces of `types` (ONVIF's usual prefixes where known).
function typePrefix(namespace: string | undefined, index: number): string {
  if (namespace === ONVIF_TYPE_NS.network) return "dn";
  if (namespace === ONVIF_TYPE_NS.device) return "tds";
  return `t${index}`;
}

function typeNamespaces(types: readonly QualifiedType[]): string {
  const seen = new Set<string>();
  let out = "";
  types.forEach((t, i) => {
    const prefix = typePrefix(t.namespace, i);
    if (!t.namespace || seen.has(prefix)) return;
    seen.add(prefix);
    out += ` xmlns:${prefix}="${xmlEscape(t.namespace)}"`;
  });
  return out;
}

function typeList(types: readonly QualifiedType[]): string {
  return types.map((t, i) => t.namespace ? `${typePrefix(t.namespace, i)}:${t.local}` : t.local).join(" ");
}
