import { describe, expect, it } from "bun:test";
import { onvifSourceUrl } from "./discover.ts";
import {
  buildAnnouncement,
  buildProbe,
  buildProbeMatches,
  discoveryAction,
  MATCH_BY_STRCMP0,
  ONVIF_DEVICE_TYPES,
  ONVIF_TYPE_NS,
  type Probe,
  probeMatches,
  readAnnouncement,
  readProbe,
  readProbeMatches,
} from "./ws_discovery.ts";

const SCOPES = ["onvif://www.onvif.org/name/strom", "onvif://www.onvif.org/type/video_encoder"];

// A probe as many clients write it: unprefixed SOAP elements, the type's prefix on the Envelope.
const DEFAULT_NS_PROBE =
  `<Envelope xmlns="http://www.w3.org/2003/05/soap-envelope" xmlns:dn="${ONVIF_TYPE_NS.network}">` +
  `<Header><a:MessageID xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing">urn:uuid:42</a:MessageID>` +
  `<a:Action xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing">http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action></Header>` +
  `<Body><Probe xmlns="http://schemas.xmlsoap.org/ws/2005/04/discovery"><Types>dn:NetworkVideoTransmitter</Types><Scopes /></Probe></Body></Envelope>`;

const probe = (p: Partial<Probe>): Probe => ({
  messageId: "urn:uuid:1",
  types: [],
  scopes: [],
  matchBy: undefined,
  ...p,
});

describe("WS-Discovery messages", () => {
  it("a probe strom builds reads back with its ID and type", () => {
    const xml = buildProbe("urn:uuid:abc", [ONVIF_DEVICE_TYPES[1]]);
    expect(discoveryAction(xml)).toBe("Probe");
    expect(readProbe(xml)).toEqual({
      messageId: "urn:uuid:abc",
      types: [{ namespace: ONVIF_TYPE_NS.device, local: "Device" }],
      scopes: [],
      matchBy: undefined,
    });
  });

  it("reads other clients' probes: default namespaces, an empty Scopes element", () => {
    expect(readProbe(DEFAULT_NS_PROBE)).toEqual({
      messageId: "urn:uuid:42",
      types: [{ namespace: ONVIF_TYPE_NS.network, local: "NetworkVideoTransmitter" }],
      scopes: [],
      matchBy: undefined,
    });
  });

  it("is not fooled by other messages and non-XML", () => {
    const matches = buildProbeMatches({
      relatesTo: "urn:uuid:1",
      match: {
        endpoint: "urn:uuid:d",
        types: [...ONVIF_DEVICE_TYPES],
        scopes: SCOPES,
        xaddrs: [],
        metadataVersion: 1,
      },
      instanceId: 1,
      messageNumber: 1,
    });
    expect(readProbe(matches)).toBeUndefined();
    expect(readProbeMatches(buildProbe("urn:uuid:1"))).toBeUndefined();
    expect(readProbe("")).toBeUndefined();
    expect(readProbe("\u0000\u0001<<<>")).toBeUndefined();
    expect(readProbeMatches("<a:Action>http://x/ProbeMatches</a:Action>")).toEqual({
      relatesTo: "",
      matches: [],
    });
  });

  it("an answer carries the device's endpoint, types, scopes and addresses, escaped", () => {
    const xml = buildProbeMatches({
      relatesTo: "urn:uuid:probe",
      match: {
        endpoint: "urn:uuid:dev",
        types: [...ONVIF_DEVICE_TYPES],
        scopes: [...SCOPES, "onvif://www.onvif.org/name/a&b"],
        xaddrs: ["http://10.0.0.2:1984/onvif/device_service", "http://[fd00::2]:1984/onvif/device_service"],
        metadataVersion: 3,
      },
      instanceId: 7,
      messageNumber: 9,
    });
    expect(xml).toContain("a&amp;b");
    expect(xml).toContain(`InstanceId="7" MessageNumber="9"`);
    expect(readProbeMatches(xml)).toEqual({
      relatesTo: "urn:uuid:probe",
      matches: [{
        endpoint: "urn:uuid:dev",
        types: [...ONVIF_DEVICE_TYPES],
        scopes: [...SCOPES, "onvif://www.onvif.org/name/a&b"],
        xaddrs: ["http://10.0.0.2:1984/onvif/device_service", "http://[fd00::2]:1984/onvif/device_service"],
        metadataVersion: 3,
      }],
    });
  });
});

describe("Hello and Bye", () => {
  const match = {
    endpoint: "urn:uuid:dev",
    types: [...ONVIF_DEVICE_TYPES],
    scopes: SCOPES,
    xaddrs: ["http://10.0.0.2:1984/onvif/device_service"],
    metadataVersion: 1,
  };

  it("a Hello carries the whole device, a Bye its endpoint only; neither is a probe or an answer", () => {
    const hello = buildAnnouncement({ action: "Hello", match, instanceId: 5, messageNumber: 1 });
    const bye = buildAnnouncement({ action: "Bye", match, instanceId: 5, messageNumber: 2 });
    expect(readAnnouncement(hello)).toEqual({ action: "Hello", match });
    expect(readAnnouncement(bye)).toEqual({
      action: "Bye",
      match: { endpoint: "urn:uuid:dev", types: [], scopes: [], xaddrs: [], metadataVersion: 0 },
    });
    expect(bye).not.toContain("XAddrs");
    for (const xml of [hello, bye]) {
      expect(readProbe(xml)).toBeUndefined();
      expect(readProbeMatches(xml)).toBeUndefined();
    }
    expect(readAnnouncement(buildProbe("urn:uuid:1"))).toBeUndefined();
  });
});

describe("probeMatches", () => {
  const nvt = { namespace: ONVIF_TYPE_NS.network, local: "NetworkVideoTransmitter" };

  it("answers any probe without types or scopes, and ONVIF types by namespace", () => {
    expect(probeMatches(probe({}), ONVIF_DEVICE_TYPES, SCOPES)).toBe(true);
    expect(probeMatches(probe({ types: [nvt] }), ONVIF_DEVICE_TYPES, SCOPES)).toBe(true);
    expect(
      probeMatches(
        probe({ types: [nvt, { namespace: ONVIF_TYPE_NS.device, local: "Device" }] }),
        ONVIF_DEVICE_TYPES,
        SCOPES,
      ),
    )
      .toBe(true);
    // Same name, another namespace (a WSD printer's Device); an undeclared prefix matches by name.
    expect(
      probeMatches(
        probe({ types: [{ namespace: "http://schemas.xmlsoap.org/ws/2006/02/devprof", local: "Device" }] }),
        ONVIF_DEVICE_TYPES,
        SCOPES,
      ),
    )
      .toBe(false);
    expect(
      probeMatches(
        probe({ types: [{ namespace: undefined, local: "NetworkVideoTransmitter" }] }),
        ONVIF_DEVICE_TYPES,
        SCOPES,
      ),
    )
      .toBe(true);
    expect(
      probeMatches(
        probe({ types: [nvt, { namespace: ONVIF_TYPE_NS.network, local: "Printer" }] }),
        ONVIF_DEVICE_TYPES,
        SCOPES,
      ),
    )
      .toBe(false);
  });

  it("matches scopes by path segment (RFC 3986), exactly with strcmp0, never by an unknown rule", () => {
    const ask = (scopes: string[], matchBy?: string) =>
      probeMatches(probe({ scopes, matchBy }), ONVIF_DEVICE_TYPES, SCOPES);
    expect(ask(["onvif://www.onvif.org/name/strom"])).toBe(true);
    expect(ask(["onvif://www.onvif.org/name"])).toBe(true);
    expect(ask(["onvif://www.onvif.org/name/"])).toBe(true);
    expect(ask(["onvif://www.onvif.org/name/str"])).toBe(false);
    expect(ask(["onvif://www.onvif.org/name/strom", "onvif://www.onvif.org/type"])).toBe(true);
    expect(ask(["onvif://www.onvif.org/name/strom", "onvif://www.onvif.org/location/x"])).toBe(false);
    expect(ask(["onvif://www.onvif.org/name/strom"], MATCH_BY_STRCMP0)).toBe(true);
    expect(ask(["onvif://www.onvif.org/name"], MATCH_BY_STRCMP0)).toBe(false);
    expect(ask(["onvif://www.onvif.org/name/strom"], "urn:other-rule")).toBe(false);
  });
});

describe("onvifSourceUrl", () => {
  it("gives go2rtc's onvif://user:pass@host[:port][/path] for the first http address", () => {
    expect(onvifSourceUrl({ xaddrs: ["http://192.168.1.10/onvif/device_service"] })).toBe(
      "onvif://user:pass@192.168.1.10",
    );
    expect(
      onvifSourceUrl({ xaddrs: ["https://10.0.0.9/onvif/device_service", "http://10.0.0.9:8000/onvif/dev"] }),
    )
      .toBe("onvif://user:pass@10.0.0.9:8000/onvif/dev");
    expect(onvifSourceUrl({ xaddrs: ["not a url", "https://10.0.0.9/x"] })).toBeUndefined();
  });
});
