// An independent WS-Discovery client as a test peer: the npm `onvif` package's Discovery.probe
// (agsh/onvif), run with node whatever runtime the test runs on. It multicasts its Probe out of
// the interface named (bound to that interface's address) and prints one JSON line with the
// devices that answered: {devices: [{endpoint, types, scopes, xaddrs}]} or {error}.
//
// usage: node onvif_discovery_peer.cjs <interface> <timeout ms>
"use strict";
const { Discovery } = require("onvif");

const [device, timeout] = process.argv.slice(2);
const print = (value) => process.stdout.write(JSON.stringify(value) + "\n");
const text = (v) => (v && typeof v === "object" && "_" in v ? v._ : v) ?? "";

Discovery.on("error", () => {}); // a malformed answer is reported as an event; the result says what was found
Discovery.probe({ device, timeout: Number(timeout), resolve: false }, (err, found) => {
  if (err && !found?.length) return print({ error: String(err) });
  print({
    devices: found.map((d) => {
      const m = d.probeMatches.probeMatch;
      return {
        endpoint: text(m.endpointReference.address),
        types: String(text(m.types)).split(/\s+/).filter(Boolean),
        scopes: String(text(m.scopes)).split(/\s+/).filter(Boolean),
        xaddrs: String(text(m.XAddrs)).split(/\s+/).filter(Boolean),
      };
    }),
  });
});
